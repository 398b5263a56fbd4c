// workgroup_scan: inclusive prefix sums of two u32 counts at once over the WG threads of a workgroup
// (Hillis-Steele: log2(WG) steps of a read, a barrier, a write, a barrier). WG (a power of two) is declared by
// the including module. Call in uniform control flow; thread i gets the sums over threads 0 .. i, and thread
// WG - 1 the totals. Used where one workgroup numbers per-expert runs (dispatch offsets, expert tiles).

var<workgroup> scan_part: array<vec2u, WG>;

fn workgroup_scan(lid: u32, v: vec2u) -> vec2u {
  scan_part[lid] = v;
  workgroupBarrier();
  for (var s = 1u; s < WG; s <<= 1u) {
    var t = scan_part[lid];
    if (lid >= s) { t += scan_part[lid - s]; }
    workgroupBarrier();
    scan_part[lid] = t;
    workgroupBarrier();
  }
  return scan_part[lid];
}

// The items [x, y) of n that thread lid owns: contiguous runs in thread order, so the scan of the threads'
// totals is the scan over the items in order (each thread then walks its own run from its exclusive prefix).
fn thread_span(lid: u32, n: u32) -> vec2u {
  let per = (n + WG - 1u) / WG;
  let first = min(lid * per, n);
  return vec2u(first, min(first + per, n));
}
