// Frame messages from the server (see server/frame-message.ts): a 24-byte header, then JPEG, PNG or raw RGB.
export async function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const width = view.getUint16(16, true);
  const height = view.getUint16(18, true);
  const format = view.getUint8(20);
  const payload = new Uint8Array(buffer, 24);
  if (format === 3) {
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0, j = 0; i < width * height * 3; i += 3, j += 4) {
      rgba[j] = payload[i]; rgba[j + 1] = payload[i + 1]; rgba[j + 2] = payload[i + 2]; rgba[j + 3] = 255;
    }
    return createImageBitmap(new ImageData(rgba, width, height));
  }
  return createImageBitmap(new Blob([payload], { type: format === 2 ? 'image/png' : 'image/jpeg' }));
}
