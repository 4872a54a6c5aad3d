import { DTMF_FREQUENCIES } from './dtmf-frequencies.js';
import { GOERTZEL_KERNEL_BASE64 } from './goertzel-kernel.js';

/** The part of the WebAssembly JS API used here: TypeScript declares it only in its DOM library. */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

export type KernelFeed = (base: number, from: number, count: number, slot: number, turn: number) => void;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  feed: KernelFeed;
}

const BINS = 8;
/**
 * Every DTMF frequency is a whole number of hertz, so each turns a whole number of times per second:
 * the nominal turn of block b, e^{−jωBb}, repeats after a second's worth of 5 ms blocks.
 */
export const TURN_PERIOD = 200;
/** Layout of an instance's memory and of a bank's region in it: see goertzel-kernel.wat. */
const REGIONS_AT = 16384;
export const REGION_BYTES = 12288;
const MEMORY_BYTES = 16 * 65536;
const REGIONS_PER_INSTANCE = Math.floor((MEMORY_BYTES - REGIONS_AT) / REGION_BYTES);

/** Per block % TURN_PERIOD: cos of −ωB·b for the eight bins, then sin, from the exact fraction of a turn. */
const TURNS = new Float32Array(TURN_PERIOD * 2 * BINS);
for (let b = 0; b < TURN_PERIOD; b++) {
  DTMF_FREQUENCIES.forEach((frequency, bin) => {
    const angle = (-2 * Math.PI * ((frequency * b) % TURN_PERIOD)) / TURN_PERIOD;
    TURNS[b * 2 * BINS + bin] = Math.cos(angle);
    TURNS[b * 2 * BINS + BINS + bin] = Math.sin(angle);
  });
}

const KERNEL = new WebAssembly.Module(Buffer.from(GOERTZEL_KERNEL_BASE64, 'base64'));

/** A filter bank's region: zeroed when handed out. */
export interface KernelRegion {
  readonly feed: KernelFeed;
  readonly buffer: ArrayBuffer;
  readonly base: number;
}

/**
 * Hands out bank regions from shared kernel instances. One memory per bank would reserve V8's
 * guard region (gigabytes of address space) per stream and run out after some 13,000 of them;
 * an instance here serves REGIONS_PER_INSTANCE banks. A region comes back when its bank is
 * garbage collected (banks have no close: they live as long as their stream's masker or
 * detector), and is zeroed before it is handed out again.
 */
export class KernelPool {
  private readonly free: KernelRegion[] = [];
  private readonly returned = new FinalizationRegistry<KernelRegion>((region) => this.release(region));
  instances = 0;

  /** A zeroed region, returned to the pool once `owner` is garbage collected. */
  acquire(owner: object): KernelRegion {
    const region = this.free.pop() ?? this.grow();
    new Uint8Array(region.buffer, region.base, REGION_BYTES).fill(0);
    this.returned.register(owner, region);
    return region;
  }

  /** Makes a region available again; only for regions whose owner is gone (the registry's callback, tests). */
  release(region: KernelRegion): void {
    this.free.push(region);
  }

  private grow(): KernelRegion {
    const { memory, feed } = new WebAssembly.Instance(KERNEL).exports as KernelExports;
    const buffer = memory.buffer;
    new Float32Array(buffer, 0, TURNS.length).set(TURNS);
    this.instances++;
    for (let i = REGIONS_PER_INSTANCE - 1; i > 0; i--) this.free.push({ feed, buffer, base: REGIONS_AT + i * REGION_BYTES });
    return { feed, buffer, base: REGIONS_AT };
  }
}

export const KERNEL_POOL = new KernelPool();
