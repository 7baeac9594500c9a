/// Texts packed one after another in the rows of one forward pass, with no padding: sequence s
/// holds rows [starts[s], starts[s] + lengths[s]). The buffers live in the run state's arena.
struct PackedBatch {
    let ids: UnsafePointer<Int32>      // [rows] token ids
    let starts: UnsafePointer<Int32>   // [count] first row of each sequence
    let lengths: UnsafePointer<Int32>  // [count] its token count
    /// Sequences in the batch.
    let count: Int
    /// Rows in all: the sum of the lengths.
    let rows: Int
}
