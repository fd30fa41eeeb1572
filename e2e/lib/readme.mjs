// Reads the fenced ```graphql blocks of a markdown text and the directives before each (the
// convention is described in tests/readme.test.mjs).

/** blocks returns the ```graphql blocks of markdown with their line, directives and variables. */
export function blocks(markdown) {
  const lines = markdown.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (open[1] === 'graphql') {
      const directives = {};
      for (let j = i - 1; j >= 0; j--) {
        if (lines[j].trim() === '') continue;
        const c = /^\s*<!--\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->\s*$/.exec(lines[j]);
        if (!c) break;
        directives[c[1]] = c[2] ?? true;
      }
      const block = { line: i + 1, text: lines.slice(i + 1, end).join('\n'), directives };
      // A ```json block right after it (blank lines between) holds its variables, as a person
      // puts them in the Playground's Variables tab.
      let next = end + 1;
      while (next < lines.length && lines[next].trim() === '') next++;
      if (next < lines.length && /^\s*```json\s*$/.test(lines[next])) {
        let close = next + 1;
        while (close < lines.length && !/^\s*```\s*$/.test(lines[close])) close++;
        block.variables = lines.slice(next + 1, close).join('\n');
        end = close;
      }
      out.push(block);
    }
    i = end;
  }
  return out;
}
