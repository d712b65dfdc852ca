/** What paints the picture under the shapes: a plain image here, a tile pyramid in tiles.ts. */
import type { View } from "./view";

/** What paints the picture under the shapes (a plain image, or a tile pyramid). */
export interface ImageLayer {
  readonly width: number;
  readonly height: number;
  draw(ctx: CanvasRenderingContext2D, view: View): void;
}

export class PlainImage implements ImageLayer {
  constructor(readonly img: HTMLImageElement) {}
  get width(): number {
    return this.img.naturalWidth;
  }
  get height(): number {
    return this.img.naturalHeight;
  }
  draw(ctx: CanvasRenderingContext2D, v: View): void {
    ctx.imageSmoothingEnabled = v.scale < 2;
    ctx.drawImage(this.img, v.tx, v.ty, this.width * v.scale, this.height * v.scale);
  }
}
