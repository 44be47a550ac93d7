// Phone photos before they are queued: a 12-megapixel camera JPEG is often 4–8 MB, over the attachment limit
// (5 MiB, tile-server/incidents/api.ts MAX_ATTACHMENT_BYTES) and slow on a weak network. Large ones are redrawn at
// most MAX_SIDE px on the long side as JPEG; small JPEG/PNG/WebP files are sent as taken (byte for byte).
export const MAX_SIDE = 2048;
export const KEEP_BELOW_BYTES = 1_500_000;
const SENDABLE = ['image/jpeg', 'image/png', 'image/webp'];

/** Scale factor that fits w×h within maxSide (never enlarges). */
export function fitScale(w: number, h: number, maxSide = MAX_SIDE): number {
  return Math.min(1, maxSide / Math.max(w, h, 1));
}

export async function shrinkPhoto(file: Blob): Promise<Blob> {
  if (file.size <= KEEP_BELOW_BYTES && SENDABLE.includes(file.type)) return file;
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined') return file;
  try {
    // 'from-image' applies the EXIF orientation, so a portrait photo stays upright once the EXIF is gone.
    const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const k = fitScale(bmp.width, bmp.height);
    const canvas = new OffscreenCanvas(Math.round(bmp.width * k), Math.round(bmp.height * k));
    canvas.getContext('2d')!.drawImage(bmp, 0, 0, canvas.width, canvas.height);
    bmp.close();
    return await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
  } catch {
    return file; // a format the browser cannot decode (HEIC on some phones): the server says so if it refuses it
  }
}
