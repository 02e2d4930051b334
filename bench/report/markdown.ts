// REPORT.md: the report as Markdown, with the suite's PNG charts embedded by
// relative path, so it reads well on GitHub and in any editor beside the run.

import { anchorOf, type Block } from './document.js';

/** Text inside a table cell: a pipe would end the cell, a newline the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(b: Extract<Block, { kind: 'table' }>): string {
  const head = `| ${b.head.map(cell).join(' | ')} |`;
  const rule = `| ${b.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`;
  const rows = b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

function figure(b: Extract<Block, { kind: 'figure' }>): string {
  if (!b.png) return `_${b.title}: no PNG was drawn for this chart in this run; report.html draws it._`;
  if (!b.png.present) return `_${b.title}: ${b.png.file} is listed in results.json but missing from the run directory; report.html draws it._`;
  return `![${b.title.replace(/[[\]]/g, '')}](${encodeURI(b.png.file)})`;
}

export function renderMarkdown(blocks: readonly Block[]): string {
  const out = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `${'#'.repeat(b.level)} ${b.text}`;
      case 'paragraph':
        return b.text;
      case 'list':
        return b.items.map((i) => `- ${i}`).join('\n');
      case 'table':
        return table(b);
      case 'figure':
        return figure(b);
      case 'contents':
        return ['Contents:', ...b.entries.map((e) => `${e.level === 3 ? '  ' : ''}- [${e.text}](#${anchorOf(e.text)})`)].join('\n');
    }
  });
  return out.join('\n\n') + '\n';
}
