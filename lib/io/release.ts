// Frees a typed array's memory now. V8 frees an ArrayBuffer's backing store only when it collects the
// buffer object, and a buffer that outlived a minor collection waits for a full one, which may be hundreds of
// images later: decoded photos (3 MB for 1024×1024, 36 MB for 12 MP) pile up meanwhile. Detaching the buffer
// (ArrayBuffer.prototype.transfer) hands its memory back at once.

/**
 * Releases the memory behind `view` when it is the only view of a whole, non-shared ArrayBuffer, and returns
 * true. A view into part of a buffer (Node's pooled small Buffers, subarrays) or of shared memory is left
 * alone, since other views may still read it. After release the view has length 0.
 */
export function release(view: ArrayBufferView): boolean {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return false;
  if (view.byteOffset !== 0 || view.byteLength !== buffer.byteLength || buffer.byteLength === 0) return false;
  buffer.transfer(0);
  return true;
}
