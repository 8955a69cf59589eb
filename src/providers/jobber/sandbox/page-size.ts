/** A connection field returns at most this many nodes, and costs as if it did when `first` is not given. */
export const MAX_PAGE = 100;
