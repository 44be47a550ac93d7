// The picture worker: draws 2D picture tiles (picture-render.ts) off the page's main thread, so the
// map stays responsive while a screenful of tiles is drawn (thousands of footprints each). One worker
// per map; its decoded tiles are cached here, apart from the vector layer's.
import { offscreenCanvas, PictureTiles, renderPicture, type PictureRequest } from './picture-render.ts';

export type PictureReply = { id: number; image: ImageBitmap | null } | { id: number; error: string };

const tiles = new PictureTiles();
const scope = self as unknown as { onmessage: ((e: MessageEvent<{ id: number; req: PictureRequest }>) => void) | null; postMessage(m: PictureReply, t?: Transferable[]): void };

scope.onmessage = (e) => {
  const { id, req } = e.data;
  renderPicture(req, tiles, offscreenCanvas).then(
    (image) => scope.postMessage({ id, image }, image ? [image] : []),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
