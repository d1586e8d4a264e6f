// Frames carry vectors between nodes: up to FRAME_SIZE buffer indices, a count and the
// node they are for. A per-interface node (`<if>-output`, `<if>-tx`) knows its interface
// from its own runtime (`ctx.interfaceIndex`), so frames carry no scalar for it. Frames
// are pooled: the data path never allocates one once the pool has warmed up.

/** The largest vector a node ever sees (VPP's VLIB_FRAME_SIZE). */
export const FRAME_SIZE = 256;

export class Frame {
  readonly buffers = new Uint32Array(FRAME_SIZE);
  count = 0;
  /** Index of the node this frame is queued for; -1 while free. */
  target = -1;
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
    frame.ownerNode = -1;
    frame.ownerNext = -1;
    this.free.push(frame);
  }
}
