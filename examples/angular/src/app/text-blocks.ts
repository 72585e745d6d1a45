/** A block is closed, at a line break, once it holds this many characters. */
export const BLOCK_SIZE = 4096;

/**
 * Appends a chunk of text to `blocks` in place: to the last block, except that once the last
 * block holds `BLOCK_SIZE` characters, the text after the chunk's last line break starts a new
 * block. A view rendering one block-level element per block (`@for` tracked by index) then
 * touches only the last block each frame, and the browser lays out only that block: each frame
 * costs a block at most, never the whole text, so rendering an answer stays linear in its length.
 * Blocks end at line breaks, so they read as the text does.
 */
export function appendChunk(blocks: string[], chunk: string): string[] {
  const last = blocks.length - 1;
  if (last < 0) {
    blocks.push(chunk);
    return blocks;
  }
  const current = blocks[last] as string;
  const cut = current.length >= BLOCK_SIZE ? chunk.lastIndexOf('\n') + 1 : 0;
  if (cut === 0) {
    blocks[last] = current + chunk;
  } else {
    blocks[last] = current + chunk.slice(0, cut);
    if (cut < chunk.length) blocks.push(chunk.slice(cut));
    else blocks.push('');
  }
  return blocks;
}
