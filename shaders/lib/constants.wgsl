// Numeric constants every kernel shares.

// A finite stand-in for -inf (the lowest f32): exp(NEG_INF - m) and exp2(NEG_INF - m) underflow to exactly 0,
// and a running max that starts here never makes inf - inf when it is subtracted from itself.
const NEG_INF: f32 = -3.402823466e38;
// log2(e): scores pre-multiplied by it let the softmax use exp2, which is one instruction on GPUs.
const LOG2E: f32 = 1.4426950408889634;
