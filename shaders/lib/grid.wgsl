// Grid helpers. A launch of more workgroups than one dimension holds (65,535 usually) is split over x and y
// by the host (`grid` in src/gpu/shader.ts); the kernel recovers the linear id and returns past the end.

fn linear_group(wg: vec3u, nwg: vec3u) -> u32 {
  return wg.x + wg.y * nwg.x;
}
