/** The longest a block of text grows before the next chunk starts a new one. */
export const BLOCK_SIZE = 4096;

/**
 * Appends a chunk of text to `blocks` in place: to the last block while it is shorter than
 * `BLOCK_SIZE`, else as a new block. A view rendering one element per block (`@for` tracked by
 * index) then only touches the last block and appends new ones: each frame costs the chunk and
 * one block at most, never the whole text, so rendering an answer stays linear in its length.
 */
export function appendChunk(blocks: string[], chunk: string): string[] {
  const last = blocks.length - 1;
  if (last >= 0 && (blocks[last] as string).length < BLOCK_SIZE) blocks[last] += chunk;
  else blocks.push(chunk);
  return blocks;
}
