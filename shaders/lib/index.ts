// The WGSL library by include name. `#include "lib/NAME.wgsl"` in any shader is resolved from this table by
// resolveShader (src/gpu/shader.ts); the `?raw` imports work the same under Vite and the Node CLI's loader.
import constants from './constants.wgsl?raw';
import gemm from './gemm.wgsl?raw';
import gemmQuad from './gemm-quad.wgsl?raw';
import grid from './grid.wgsl?raw';
import infinity from './infinity.wgsl?raw';
import keyList from './key-list.wgsl?raw';
import latentSplit from './latent-split.wgsl?raw';
import lseMerge from './lse-merge.wgsl?raw';
import lseMergeColumn from './lse-merge-column.wgsl?raw';
import onlineSoftmax from './online-softmax.wgsl?raw';
import orderKey from './order-key.wgsl?raw';
import quadRowDots from './quad-row-dots.wgsl?raw';
import rowSoftmax from './row-softmax.wgsl?raw';
import workgroupReduce from './workgroup-reduce.wgsl?raw';
import workgroupScan from './workgroup-scan.wgsl?raw';

export const WGSL_LIBRARY: Readonly<Record<string, string>> = {
  'lib/constants.wgsl': constants,
  'lib/gemm.wgsl': gemm,
  'lib/gemm-quad.wgsl': gemmQuad,
  'lib/grid.wgsl': grid,
  'lib/infinity.wgsl': infinity,
  'lib/key-list.wgsl': keyList,
  'lib/latent-split.wgsl': latentSplit,
  'lib/lse-merge.wgsl': lseMerge,
  'lib/lse-merge-column.wgsl': lseMergeColumn,
  'lib/online-softmax.wgsl': onlineSoftmax,
  'lib/order-key.wgsl': orderKey,
  'lib/quad-row-dots.wgsl': quadRowDots,
  'lib/row-softmax.wgsl': rowSoftmax,
  'lib/workgroup-reduce.wgsl': workgroupReduce,
  'lib/workgroup-scan.wgsl': workgroupScan,
};
