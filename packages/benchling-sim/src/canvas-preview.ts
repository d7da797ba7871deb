import MarkdownIt from 'markdown-it';

/**
 * A canvas as a scientist would see it, as one HTML page: Markdown rendered (raw HTML in it is
 * shown as text, as Benchling does), buttons clickable unless disabled, the app session's status
 * and messages above. A click posts to `/_sim/canvases/{id}/click`, which sends the signed
 * `v2.canvas.userInteracted` webhook; the page then reloads once the canvas has changed.
 */
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

type Block = { type?: unknown; id?: unknown; value?: unknown; text?: unknown; enabled?: unknown; children?: unknown };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function blockHtml(b: Block, canvasEnabled: boolean): string {
  switch (b.type) {
    case 'MARKDOWN':
      return `<div class="md" data-block="${escapeHtml(String(b.id ?? ''))}">${md.render(String(b.value ?? ''))}</div>`;
    case 'BUTTON': {
      const enabled = canvasEnabled && b.enabled !== false;
      const label = escapeHtml(String(b.text ?? ''));
      return `<button type="button" data-button-id="${escapeHtml(String(b.id))}"${enabled ? '' : ' disabled'}>${label}</button>`;
    }
    case 'SECTION': {
      const children = ((b.children as Block[]) ?? []).map((c) => blockHtml(c, canvasEnabled)).join('');
      return `<div class="section" data-block="${escapeHtml(String(b.id ?? ''))}">${children}</div>`;
    }
    default:
      return `<div class="other">${escapeHtml(String(b.type))} block</div>`;
  }
}

function sessionHtml(s: Record<string, unknown>): string {
  const status = escapeHtml(String(s.status));
  const name = escapeHtml(String(s.name ?? 'Session'));
  const items = ((s.messages as Array<{ content: string; style?: string }>) ?? [])
    .map((m) => `<li class="${escapeHtml(String(m.style ?? 'NONE')).toLowerCase()}">${escapeHtml(m.content)}</li>`)
    .join('');
  return `<div class="session" data-status="${status}"><strong>${name}</strong> · ${status}<ul>${items}</ul></div>`;
}

export interface PreviewInput {
  canvas: Record<string, unknown>;
  versions: number;
  session?: Record<string, unknown>;
}

export function canvasPreviewHtml(p: PreviewInput): string {
  const c = p.canvas;
  const enabled = c.enabled !== false;
  const session = p.session ? sessionHtml(p.session) : '';
  const id = escapeHtml(String(c.id));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Canvas ${id}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
.canvas{max-width:860px;margin:24px auto;background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:20px 24px}
.head{font-size:12px;color:#6b7385;margin-bottom:12px}
.section{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #2d6cdf;background:#2d6cdf;color:#fff;cursor:pointer}
button:disabled{background:#e4e7ec;border-color:#d0d4dc;color:#8a91a0;cursor:not-allowed}
table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border:1px solid #e1e4ea;padding:4px 10px;text-align:left}
code{background:#f0f2f5;padding:1px 4px;border-radius:4px}
.session{border-left:4px solid #2d6cdf;background:#f3f7ff;padding:8px 12px;margin-bottom:12px;font-size:14px}
.session .error{color:#b42318}.session .success{color:#067647}
</style></head>
<body><div class="canvas" id="canvas" data-canvas-id="${id}" data-version="${p.versions}">
<div class="head">Benchling simulator · canvas ${id} · entry ${escapeHtml(String(c.resourceId ?? ''))} · version ${p.versions}</div>
${session}${((c.blocks as Block[]) ?? []).map((b) => blockHtml(b, enabled)).join('\n')}
</div>
<script>
const root = document.getElementById('canvas');
for (const b of document.querySelectorAll('button[data-button-id]')) {
  b.addEventListener('click', async () => {
    for (const x of document.querySelectorAll('button')) x.disabled = true;
    const id = root.dataset.canvasId, before = Number(root.dataset.version);
    const r = await fetch('/_sim/canvases/' + encodeURIComponent(id) + '/click', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ buttonId: b.dataset.buttonId }),
    });
    document.title = 'clicked ' + r.status;
    const until = Date.now() + 15000;
    while (Date.now() < until) {
      const s = await (await fetch('/_sim/canvases/' + encodeURIComponent(id))).json();
      if (s.versions > before) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    location.reload();
  });
}
</script></body></html>`;
}
