// A small model written to offer every fusion pass something to do, shared by
// the fusion and memory-planning tests.

/** A model that offers every fusion: four bags of one input read one by one, an interaction then a concat, an MLP on top. */
export const FUSIBLE = `model fusible {
  input dense: f32[6]
  input sparse: bags[4]
  table a: embedding(dim: 8, rows: 40)
  table b: embedding(dim: 8, rows: 30)
  table c: embedding(dim: 8, rows: 20)
  table d: embedding(dim: 8, rows: 50)
  bottom = mlp(dense, [16, 8], act: relu)
  ea = embedding_bag(a, sparse[0])
  eb = embedding_bag(b, sparse[1])
  ec = embedding_bag(c, sparse[2])
  ed = embedding_bag(d, sparse[3])
  z = concat(interact(bottom, ea, eb, ec, ed), bottom)
  top = mlp(z, [24, 12, 1], act: relu, final: sigmoid)
  output ctr = top
}`;
