// Frames carry vectors between nodes: up to FRAME_SIZE buffer indices, a count, the node
// they are for and, for frames into an interface's output or tx node, that interface's
// sw_if_index (VPP's frame scalar arguments). Frames are pooled: the data path never
// allocates one once the pool has warmed up.

import { NONE } from './buffer-pool.ts';

/** The largest vector a node ever sees (VPP's VLIB_FRAME_SIZE). */
export const FRAME_SIZE = 256;

export class Frame {
  readonly buffers = new Uint32Array(FRAME_SIZE);
  count = 0;
  /** Index of the node this frame is queued for; -1 while free. */
  target = -1;
  /** sw_if_index for frames into per-interface nodes, NONE otherwise. */
  interfaceIndex = NONE;
  /** The node and next arc that are still appending to this frame (cleared when it runs). */
  ownerNode = -1;
  ownerNext = -1;
}

export class FramePool {
  private readonly free: Frame[] = [];
  /** Frames ever created: a steady-state run keeps this flat. */
  created = 0;

  get(): Frame {
    const f = this.free.pop();
    if (f !== undefined) return f;
    this.created++;
    return new Frame();
  }

  put(frame: Frame): void {
    frame.count = 0;
    frame.target = -1;
    frame.interfaceIndex = NONE;
    frame.ownerNode = -1;
    frame.ownerNext = -1;
    this.free.push(frame);
  }
}
