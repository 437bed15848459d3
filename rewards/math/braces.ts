/** Index of the `}` that closes the `{` at `open`, skipping escaped characters; null if unclosed. */
export function matchingBrace(text: string, open: number): number | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return null;
}
