import { b64Length, fromB64, toB64 } from './columns.js';

/**
 * Contextual Anomaly Detector, Open Source Edition (CAD OSE; M. Smirnov, 2016), as published in NAB
 * (`nab/detectors/context_ose/`: `cad_ose.py`, `context_operator.py`), ported step for step over a
 * fixed value range. No library implements it, hence the port. `ContextOseDetector`
 * (`context-ose-detector.ts`) runs it on a stream whose range is not known in advance.
 *
 * Each value is binned into `2^bits` levels over the range, and each bit of the bin is a "sensor
 * fact". A context is a pair (left facts → right facts): the facts of the previous step (its sensor
 * facts plus the "neurons", i.e. the contexts that fired) followed by the current sensor facts.
 * Contexts are learned as they are seen; at each step the share of the contexts selected by the
 * previous step that the current value confirms, and the share of new contexts that had to be learned,
 * make the anomaly score `(1 - confirmed + learned) / 2` (0 when the value was predicted). A score at
 * or above `baseThreshold` silences the detector for `restPeriod` steps.
 *
 * Differences from the original: among active contexts with the same count the original keeps those
 * with the largest Python tuple hashes, here the newest (largest ids); and the context memory is
 * bounded (`maxContexts`: when full, no new context is learned). With the original's iteration order
 * made deterministic the same way, the scores are identical. Its quirk of never updating context 0 in
 * a step that learned no zero-level context (`False != 0` is false in Python) is kept.
 *
 * Facts are small integers: sensor fact `2·bit + value` (bit < `bits`), neuron fact `2·bits + id`.
 * Right-hand sides are only ever sensor facts, so they are stored as bit masks.
 *
 * Origin: a port of code from the Numenta Anomaly Benchmark (github.com/numenta/NAB), which is under
 * the MIT licence since December 2024 (Copyright 2014-2024 Numenta Inc.; CAD OSE by Mikhail Smirnov).
 * Earlier NAB releases were AGPL-3.0: this port follows the MIT-licensed release.
 */
export interface ContextOseOptions {
  /** Bits of the binned value (the original's `numNormValueBits`). */
  readonly bits: number;
  readonly baseThreshold: number;
  readonly restPeriod: number;
  /** Longest left-hand side of a learned (crossed) context (`maxLeftSemiContextsLenght`). */
  readonly maxLeftLength: number;
  /** Active contexts fed back as neuron facts (`maxActiveNeuronsNum`). */
  readonly maxActiveNeurons: number;
  /** Bound on the context memory (and so on each step's work and the snapshot's size). */
  readonly maxContexts: number;
}

/** The original's defaults (NAB ran it with `restPeriod` = a fifth of each file's probation instead). */
export const DEFAULT_CONTEXT_OSE: ContextOseOptions = {
  bits: 3,
  baseThreshold: 0.75,
  restPeriod: 30,
  maxLeftLength: 7,
  maxActiveNeurons: 15,
  maxContexts: 1 << 16,
};

/** A growable Int32Array / Float64Array column. */
function grow<T extends Int32Array | Float64Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(needed, array.length * 2));
  next.set(array);
  return next;
}

const popcount = (x: number) => {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0xf0f0f0f) * 0x1010101) >>> 24;
};

export interface ContextOseState {
  n: number;
  sinceHigh: number;
  predicted: number;
  leftGroup: number[];
  /** Left semi-contexts: their facts, concatenated (base64 Int32), and each one's length. */
  leftFacts: string;
  leftLengths: string;
  /** Contexts: left semi-context, right mask, and the three counters (base64). */
  ctxLeft: string;
  ctxRight: string;
  ctxZero: string;
  ctxCounts: string;
}

function int32From(text: string): Int32Array {
  const out = new Int32Array(b64Length(text, 4));
  fromB64(text, out);
  return out;
}
function float64From(text: string): Float64Array {
  const out = new Float64Array(b64Length(text, 8));
  fromB64(text, out);
  return out;
}

export class ContextOse {
  private readonly o: ContextOseOptions;
  private readonly maxBin: number;
  private readonly sensorFacts: number;

  private readonly lo: number;
  private readonly range: number;
  private readonly binStep: number;
  // Rest state.
  private n = 0;
  /** Steps since the last raw score at or above `baseThreshold` (the original's history starts at 1.0). */
  private sinceHigh = 0;
  /** Mask of the sensor facts predicted for this step. */
  private predicted = 0;
  /** The previous step's facts (sorted): current sensor facts and active neurons. */
  private leftGroup: number[] = [];

  // Left semi-contexts.
  private leftCount = 0;
  private leftStart = new Int32Array(64);
  private leftLength = new Int32Array(64);
  /** Sensor facts of each left semi-context (a mask) and how many neuron facts it has. */
  private leftSensors = new Int32Array(64);
  private leftNeurons = new Int32Array(64);
  private leftPool = new Int32Array(256);
  private leftPoolSize = 0;
  private leftByKey = new Map<string, number>();
  /** Left semi-contexts that hold each neuron fact, in creation order (indexed by context id). */
  private leftsOfNeuron: number[][] = [];
  /** Left semi-contexts made of sensor facts only. */
  private sensorOnlyLefts: number[] = [];
  /** Contexts of each left semi-context, in creation order (linked through `ctxNext`). */
  private leftFirstCtx = new Int32Array(64);
  private leftLastCtx = new Int32Array(64);
  /**
   * The crossing of the left semi-contexts with the last left group, kept lazily: the neuron facts
   * each one shares with it (reset through `touched`), the group's sensor mask, the semi-contexts that
   * existed then, and those the group holds entirely ("full"). Counting every semi-context's shared
   * facts is only needed in steps that learn, so it is done only then.
   */
  private neuronMatch = new Int32Array(64);
  private touched: number[] = [];
  private groupSensors = 0;
  private crossLimit = 0;
  private full: number[] = [];

  // Right semi-contexts: masks of sensor facts.
  private readonly rightIdOfMask: Int32Array;
  private readonly rightMask: Int32Array;
  private rightCount = 0;

  // Contexts.
  private ctxCount = 0;
  private ctxLeft = new Int32Array(64);
  private ctxRight = new Int32Array(64);
  private ctxZero = new Int32Array(64);
  private ctxNext = new Int32Array(64);
  /** Per context: [selected facts, crossed facts, times active] (the original's values 0–2). */
  private ctxCounts = new Float64Array(192);
  private readonly ctxByPair = new Map<number, number>();
  /** The zero-level context learned this step, skipped when updating (0 when none, as in the original). */
  private newContextId = 0;

  // Scratch, reused every step.
  private active: number[] = [];
  private potLeft: number[] = [];
  private potMask: number[] = [];

  /** The value range is [min, max] (the original's `minValue`, `maxValue`). */
  constructor(min: number, max: number, options: Partial<ContextOseOptions> = {}) {
    this.o = { ...DEFAULT_CONTEXT_OSE, ...options };
    if (this.o.bits < 1 || this.o.bits > 15) throw new Error('contextOSE: bits must be within 1..15');
    if (this.o.restPeriod < 1) throw new Error('contextOSE: restPeriod must be at least 1');
    this.maxBin = 2 ** this.o.bits - 1;
    this.lo = min;
    this.range = max - min === 0 ? this.maxBin : max - min;
    this.binStep = this.range / this.maxBin;
    this.sensorFacts = 2 * this.o.bits;
    this.rightIdOfMask = new Int32Array(1 << this.sensorFacts).fill(-1);
    this.rightMask = new Int32Array(1 << this.sensorFacts);
  }

  /** Steps seen. */
  get steps(): number {
    return this.n;
  }

  /** The anomaly score of `value` (the original's `getAnomalyScore`); 0 while resting. */
  update(value: number): number {
    // Out-of-range values go to the end bins (the original would add bits; a fixed range is trusted).
    const bin = Math.min(this.maxBin, Math.max(0, Math.trunc((value - this.lo) / this.binStep)));
    let sens = 0;
    let error = 0;
    for (let b = 0; b < this.o.bits; b++) {
      const fact = 2 * b + ((bin >> b) & 1);
      sens |= 1 << fact;
      if (!((this.predicted >> fact) & 1)) error += 2 ** b;
    }
    const [confirmed, learned] = this.step(sens);
    const raw = error > 0 ? (1 - confirmed + learned) / 2 : 0;
    const resting = this.sinceHigh < this.o.restPeriod;
    this.sinceHigh = raw >= this.o.baseThreshold ? 0 : this.sinceHigh + 1;
    this.n++;
    return resting ? 0 : raw;
  }

  /** The value range the prediction for the next step allows (the whole range when it allows none). */
  expected(): [number, number] {
    let first = -1;
    let last = -1;
    for (let bin = 0; bin <= this.maxBin; bin++) {
      let ok = true;
      for (let b = 0; b < this.o.bits && ok; b++)
        ok = ((this.predicted >> (2 * b + ((bin >> b) & 1))) & 1) === 1;
      if (ok) {
        if (first === -1) first = bin;
        last = bin;
      }
    }
    if (first === -1) return [this.lo, this.lo + this.range];
    return [this.lo + first * this.binStep, this.lo + Math.min(this.range, (last + 1) * this.binStep)];
  }

  /** One step of the context operator on the current sensor facts (a mask). */
  private step(sens: number): [number, number] {
    let newContext = false;
    const hasLeft = this.leftGroup.length > 0;
    if (hasLeft) newContext = this.learnZeroLevel(this.leftGroup, sens);

    // Right crossing is implicit (mask & sens). Update the contexts the previous left group selected:
    // every crossed semi-context in creation order when this step learns (partly crossed ones propose
    // new contexts), otherwise only the full ones (the partly crossed ones change nothing then).
    const active = this.active;
    active.length = 0;
    this.potLeft.length = 0;
    this.potMask.length = 0;
    let selected = 0;
    const counts = this.ctxCounts;
    const visit = (left: number, cross: number, full: boolean) => {
      for (let ctx = this.leftFirstCtx[left]!; ctx !== -1; ctx = this.ctxNext[ctx]!) {
        if (ctx === this.newContextId) continue;
        const mask = this.rightMask[this.ctxRight[ctx]!]!;
        const rightCross = mask & sens;
        const rc = popcount(rightCross);
        if (full) {
          selected++;
          const rightLength = popcount(mask);
          counts[3 * ctx] = counts[3 * ctx]! + rightLength;
          if (rc > 0) {
            counts[3 * ctx + 1] = counts[3 * ctx + 1]! + rc;
            if (rc === rightLength) {
              counts[3 * ctx + 2] = counts[3 * ctx + 2]! + 1;
              active.push(ctx);
            } else if (this.ctxZero[ctx] && newContext && cross <= this.o.maxLeftLength) {
              this.potLeft.push(left);
              this.potMask.push(rightCross);
            }
          }
        } else if (this.ctxZero[ctx] && newContext && rc > 0 && cross <= this.o.maxLeftLength) {
          this.potLeft.push(left);
          this.potMask.push(rightCross);
        }
      }
    };
    if (newContext) {
      for (let left = 0; left < this.crossLimit; left++) {
        const cross = popcount(this.leftSensors[left]! & this.groupSensors) + this.neuronMatch[left]!;
        if (cross > 0) visit(left, cross, cross === this.leftLength[left]);
      }
    } else for (const left of this.full) visit(left, this.leftLength[left]!, true);
    this.newContextId = 0;

    // Potential contexts as fact lists (left facts crossed with the previous left group), deduplicated
    // for the count of unique candidates.
    const potentials: [number[], number][] = [];
    let unique = 0;
    if (newContext) {
      const keys = new Set<string>([`${this.leftGroup.join(',')}|${sens}`]);
      for (let i = 0; i < this.potLeft.length; i++) {
        const facts = this.crossedFacts(this.potLeft[i]!, this.leftGroup);
        const mask = this.potMask[i]!;
        potentials.push([facts, mask]);
        keys.add(`${facts.join(',')}|${mask}`);
      }
      unique = keys.size;
    }
    const confirmed = selected > 0 ? active.length / selected : 0;

    // The strongest active contexts become this step's neuron facts.
    if (active.length > this.o.maxActiveNeurons) {
      active.sort((a, b) => counts[3 * a + 2]! - counts[3 * b + 2]! || a - b);
      active.splice(0, active.length - this.o.maxActiveNeurons);
    }
    active.sort((a, b) => a - b);
    const group: number[] = [];
    for (let f = 0; f < this.sensorFacts; f++) if ((sens >> f) & 1) group.push(f);
    for (const ctx of active) group.push(this.sensorFacts + ctx);
    this.leftGroup = group;

    // Learn the potential contexts, cross the new left group, and predict the next sensor facts.
    let added = 0;
    for (const [facts, mask] of potentials) if (this.learn(facts, mask, false)) added++;
    this.cross(group);
    if (newContext) added++;
    const learned = newContext && unique > 0 ? added / unique : 0;
    return [confirmed, learned];
  }

  /** The facts of a left semi-context that are in `group` (both sorted), in order. */
  private crossedFacts(left: number, group: readonly number[]): number[] {
    const out: number[] = [];
    const start = this.leftStart[left]!;
    const end = start + this.leftLength[left]!;
    let j = 0;
    for (let i = start; i < end; i++) {
      const f = this.leftPool[i]!;
      while (j < group.length && group[j]! < f) j++;
      if (j < group.length && group[j] === f) out.push(f);
    }
    return out;
  }

  /** Crosses the left semi-contexts with `group` and sets the prediction for the next step. */
  private cross(group: readonly number[]): void {
    for (const left of this.touched) this.neuronMatch[left] = 0;
    this.touched.length = 0;
    let sensors = 0;
    for (const f of group) {
      if (f < this.sensorFacts) {
        sensors |= 1 << f;
        continue;
      }
      const lefts = this.leftsOfNeuron[f - this.sensorFacts];
      if (lefts) for (const left of lefts) if (this.neuronMatch[left]!++ === 0) this.touched.push(left);
    }
    this.groupSensors = sensors;
    this.crossLimit = this.leftCount;
    const full = this.full;
    full.length = 0;
    for (const left of this.sensorOnlyLefts) if ((this.leftSensors[left]! & ~sensors) === 0) full.push(left);
    for (const left of this.touched)
      if (this.neuronMatch[left] === this.leftNeurons[left] && (this.leftSensors[left]! & ~sensors) === 0)
        full.push(left);
    // The prediction: the right-hand sides of the full semi-contexts' best contexts (ties joined).
    let best = 0;
    let predicted = 0;
    const counts = this.ctxCounts;
    for (const left of full) {
      for (let ctx = this.leftFirstCtx[left]!; ctx !== -1; ctx = this.ctxNext[ctx]!) {
        const c0 = counts[3 * ctx]!;
        const weight = c0 > 0 ? counts[3 * ctx + 1]! / c0 : 0;
        const mask = this.rightMask[this.ctxRight[ctx]!]!;
        if (weight > best) {
          best = weight;
          predicted = mask;
        } else if (weight === best) predicted |= mask;
      }
    }
    this.predicted = predicted;
  }

  /** The zero-level context (previous facts → current sensor facts): true when it is new. */
  private learnZeroLevel(left: readonly number[], sens: number): boolean {
    return this.learn(left, sens, true);
  }

  /**
   * Finds or creates the context (left facts → right mask). Returns true when it was created. A found
   * zero-level context is marked zero-level.
   */
  private learn(facts: readonly number[], mask: number, zeroLevel: boolean): boolean {
    const key = facts.join(',');
    let left = this.leftByKey.get(key);
    let right = this.rightIdOfMask[mask]!;
    if (left !== undefined && right !== -1) {
      const existing = this.ctxByPair.get(left * 65536 + right);
      if (existing !== undefined) {
        if (zeroLevel) this.ctxZero[existing] = 1;
        return false;
      }
    }
    if (this.ctxCount >= this.o.maxContexts) return false;
    if (left === undefined) left = this.addLeft(facts, key);
    if (right === -1) {
      right = this.rightCount++;
      this.rightIdOfMask[mask] = right;
      this.rightMask[right] = mask;
    }
    const ctx = this.addContext(left, right, zeroLevel);
    if (zeroLevel) this.newContextId = ctx;
    return true;
  }

  private addLeft(facts: readonly number[], key: string): number {
    const left = this.leftCount++;
    if (left >= this.leftStart.length) {
      const size = left * 2;
      this.leftStart = grow(this.leftStart, size);
      this.leftLength = grow(this.leftLength, size);
      this.leftFirstCtx = grow(this.leftFirstCtx, size);
      this.leftLastCtx = grow(this.leftLastCtx, size);
      this.leftSensors = grow(this.leftSensors, size);
      this.leftNeurons = grow(this.leftNeurons, size);
      this.neuronMatch = grow(this.neuronMatch, size);
    }
    this.leftPool = grow(this.leftPool, this.leftPoolSize + facts.length);
    this.leftStart[left] = this.leftPoolSize;
    this.leftLength[left] = facts.length;
    this.leftFirstCtx[left] = -1;
    this.leftLastCtx[left] = -1;
    this.neuronMatch[left] = 0;
    let sensors = 0;
    let neurons = 0;
    for (const f of facts) {
      this.leftPool[this.leftPoolSize++] = f;
      if (f < this.sensorFacts) sensors |= 1 << f;
      else {
        neurons++;
        const id = f - this.sensorFacts;
        while (this.leftsOfNeuron.length <= id) this.leftsOfNeuron.push([]);
        this.leftsOfNeuron[id]!.push(left);
      }
    }
    this.leftSensors[left] = sensors;
    this.leftNeurons[left] = neurons;
    if (neurons === 0) this.sensorOnlyLefts.push(left);
    this.leftByKey.set(key, left);
    return left;
  }

  private addContext(left: number, right: number, zeroLevel: boolean): number {
    const ctx = this.ctxCount++;
    if (ctx >= this.ctxLeft.length) {
      const size = ctx * 2;
      this.ctxLeft = grow(this.ctxLeft, size);
      this.ctxRight = grow(this.ctxRight, size);
      this.ctxZero = grow(this.ctxZero, size);
      this.ctxNext = grow(this.ctxNext, size);
      this.ctxCounts = grow(this.ctxCounts, 3 * size);
    }
    this.ctxLeft[ctx] = left;
    this.ctxRight[ctx] = right;
    this.ctxZero[ctx] = zeroLevel ? 1 : 0;
    this.ctxNext[ctx] = -1;
    this.ctxCounts[3 * ctx] = 0;
    this.ctxCounts[3 * ctx + 1] = 0;
    this.ctxCounts[3 * ctx + 2] = 0;
    const last = this.leftLastCtx[left]!;
    if (last === -1) this.leftFirstCtx[left] = ctx;
    else this.ctxNext[last] = ctx;
    this.leftLastCtx[left] = ctx;
    this.ctxByPair.set(left * 65536 + right, ctx);
    return ctx;
  }

  /** Learned contexts so far (bounded by `maxContexts`). */
  get contexts(): number {
    return this.ctxCount;
  }

  snapshot(): ContextOseState {
    const lengths = this.leftLength.subarray(0, this.leftCount);
    return {
      n: this.n,
      sinceHigh: this.sinceHigh,
      predicted: this.predicted,
      leftGroup: [...this.leftGroup],
      leftFacts: toB64(this.leftPool.subarray(0, this.leftPoolSize)),
      leftLengths: toB64(lengths),
      ctxLeft: toB64(this.ctxLeft.subarray(0, this.ctxCount)),
      ctxRight: toB64(Int32Array.from(this.ctxRight.subarray(0, this.ctxCount), (r) => this.rightMask[r]!)),
      ctxZero: toB64(this.ctxZero.subarray(0, this.ctxCount)),
      ctxCounts: toB64(this.ctxCounts.subarray(0, 3 * this.ctxCount)),
    };
  }

  /**
   * Restores into a fresh instance over the same range: the indexes (facts → semi-contexts, pairs → contexts) are rebuilt
   * in creation order, and the crossing of the last left group is recomputed, so the continuation is
   * identical. Right semi-contexts are renumbered by first use, which does not change any result.
   */
  restore(raw: unknown): void {
    const state = raw as ContextOseState;
    this.n = state.n;
    this.sinceHigh = state.sinceHigh;
    const pool = int32From(state.leftFacts);
    const lengths = int32From(state.leftLengths);
    let at = 0;
    for (const length of lengths) {
      const facts = Array.from(pool.subarray(at, at + length));
      at += length;
      this.addLeft(facts, facts.join(','));
    }
    const lefts = int32From(state.ctxLeft);
    const masks = int32From(state.ctxRight);
    const zero = int32From(state.ctxZero);
    const counts = float64From(state.ctxCounts);
    for (let ctx = 0; ctx < lefts.length; ctx++) {
      const mask = masks[ctx]!;
      let right = this.rightIdOfMask[mask]!;
      if (right === -1) {
        right = this.rightCount++;
        this.rightIdOfMask[mask] = right;
        this.rightMask[right] = mask;
      }
      this.addContext(lefts[ctx]!, right, zero[ctx] === 1);
    }
    this.ctxCounts.set(counts);
    this.newContextId = 0;
    this.leftGroup = [...state.leftGroup];
    this.cross(this.leftGroup);
    this.predicted = state.predicted;
  }
}
