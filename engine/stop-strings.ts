import type { Tokenizer } from './tokenizer';

/**
 * Watches one completion for stop strings as its tokens arrive, decoding only the new ones.
 * Each token decodes a short window: the tokens not yet read, after the last chunk of text read
 * (as context: a tokenizer may decode a token differently at the start of a text, e.g. dropping a
 * leading space). What the window adds to its context is the new text; while it ends in U+FFFD
 * (a character whose UTF-8 bytes have not all arrived) it stays pending and is read again with
 * the next token. A stop string can only end in the new text, so the search covers that and the
 * last characters before it: O(new text) per token, not a decode of the whole completion.
 */
export class StopStrings {
  private readonly ids: number[] = [];
  /** The window: ids[contextStart, readStart) were read last (decoding to `context`), the rest not yet. */
  private contextStart = 0;
  private readStart = 0;
  private context = '';
  /** The read text's last characters: as many as a stop string could have before the new text. */
  private recent = '';
  private readonly keep: number;

  constructor(private readonly tokenizer: Tokenizer, private readonly stops: readonly string[]) {
    this.keep = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  /** Adds the next token; true once the text holds a stop string. */
  push(id: number): boolean {
    this.ids.push(id);
    const window = this.tokenizer.decode(this.ids.slice(this.contextStart));
    const added = window.slice(this.context.length);
    const found = firstStop(this.recent + added, this.stops) !== undefined;
    if (window.length > this.context.length && !window.endsWith('\uFFFD')) {
      this.recent = this.keep === 0 ? '' : (this.recent + added).slice(-this.keep);
      this.contextStart = this.readStart;
      this.readStart = this.ids.length;
      this.context = this.tokenizer.decode(this.ids.slice(this.contextStart));
    }
    return found;
  }
}

/** The end of the earliest stop string in `text`, if any. */
export function firstStop(text: string, stops: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best === undefined || i + s.length < best)) best = i + s.length;
  }
  return best;
}
