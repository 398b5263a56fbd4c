// lane_sum, subgroup version (needs `enable subgroups`): a row's (or key's) L lanes are L consecutive
// invocations, L a power of two <= 4, the smallest subgroup size WebGPU allows, so they always share a
// subgroup (one quad of it) and an xor butterfly leaves the full sum in every lane, with no workgroup memory
// and no barrier. The includer declares L. Call in uniform control flow. `tid` is unused here; the
// workgroup-memory version (lane-sum-workgroup.wgsl, same signature) needs it. The host picks one of the two
// (laneSumSource in src/kernels/attention/flash-lanes.ts).
// The butterfly is two quad swaps (xor 1, xor 2), not a loop over xor masks: on SwiftShader a shuffle whose
// mask is a loop variable is a per-lane extract/insert sequence, a quad swap a few register shuffles
// (flash_prefill ran 1.3-1.4x faster with the swaps in a one-process A/B; the sums are bit-identical).
fn lane_sum(x: vec4f, tid: u32) -> vec4f {
  var s = x;
  if (L > 1u) { s += quadSwapX(s); }
  if (L > 2u) { s += quadSwapY(s); }
  return s;
}
