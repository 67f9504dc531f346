import { SAXParser, type StartTag } from 'parse5-sax-parser';
import { TextBuilder, squash, type DocumentFacts, type ParsedText } from './parsed-text.js';

/** Elements whose content is never text a reader reads. */
const dropped = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'head',
  'nav',
  'header',
  'footer',
  'aside',
  'form',
  'button',
  'select',
  'dialog',
]);

/** Boilerplate by class, id or role: navigation bars, menus, cookie banners, breadcrumbs. */
const boilerplate =
  /(^|[\s_-])(nav|navbar|navheader|navfooter|navigation|menu|breadcrumbs?|sidebar|footer|header|banner|cookies?|advert|ads|share|social|skip)([\s_-]|$)/i;
const boilerplateRoles = new Set([
  'navigation',
  'banner',
  'contentinfo',
  'complementary',
  'search',
]);

/** Elements that never have content or an end tag. */
const voids = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

/** How far down the open elements an end tag looks for its start (a bound, not HTML's rules). */
const CLOSE_SEARCH = 64;

/** Elements that end a block of text. */
const blocks = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'blockquote',
  'pre',
  'ul',
  'ol',
  'li',
  'dl',
  'dt',
  'dd',
  'table',
  'thead',
  'tbody',
  'tr',
  'br',
  'hr',
  'figure',
  'figcaption',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'body',
  'caption',
]);

interface Open {
  name: string;
  /** This element (or one above it) is dropped. */
  dropped: boolean;
  /** This element is the page's main content (main, article, role=main). */
  main: boolean;
  /** Inside a list item. */
  item: boolean;
}

/**
 * HTML to markdown-shaped text without a DOM: one streaming pass (parse5's SAX tokenizer keeps
 * no tree and never recurses, so a page nested 100,000 levels deep costs a stack of tag
 * names, not a stack overflow). Scripts, styles, navigation and boilerplate are left
 * out; headings become `#` lines, list items `- ` lines and table rows `a | b`. When the
 * page marks its main content (`<main>`, `<article>`, `role="main"`), only that is kept:
 * a readability step in the cheapest form that works on documentation and articles.
 */
export async function parseHtml(html: string): Promise<ParsedText> {
  const all = new TextBuilder();
  const main = new TextBuilder();
  const stack: Open[] = [];
  const facts: DocumentFacts = {};
  let line = '';
  let cells: string[] | undefined;
  let heading = 0;
  let title = '';
  let inTitle = false;
  let preDepth = 0;

  const top = (): Open | undefined => stack[stack.length - 1];
  const inMain = (): boolean => top()?.main ?? false;
  const flush = (): void => {
    // Inside a table row, blocks (a cell's paragraphs) are parts of one cell.
    if (cells !== undefined) {
      line += ' ';
      return;
    }
    const text = preDepth > 0 ? line.replace(/^\n+|\s+$/g, '') : squash(line);
    line = '';
    if (text === '') return;
    const shaped = heading > 0 ? `${'#'.repeat(heading)} ${squash(text)}` : text;
    const target = (top()?.item ?? false) && heading === 0 ? `- ${shaped}` : shaped;
    all.block(target);
    if (inMain()) main.block(target);
  };

  const open = (name: string, attrs: Record<string, string>): void => {
    const parent = top();
    const role = attrs.role?.toLowerCase();
    const marker = `${attrs.class ?? ''} ${attrs.id ?? ''}`;
    const isDropped =
      (parent?.dropped ?? false) ||
      dropped.has(name) ||
      (role !== undefined && boilerplateRoles.has(role)) ||
      (name !== 'body' && name !== 'html' && boilerplate.test(marker)) ||
      attrs.hidden !== undefined ||
      attrs['aria-hidden'] === 'true';
    const isMain =
      (parent?.main ?? false) || name === 'main' || name === 'article' || role === 'main';
    if (name === 'html' && attrs.lang) facts.language = attrs.lang.slice(0, 32);
    if (name === 'title') inTitle = true;
    if (name === 'meta') meta(facts, attrs);
    if (blocks.has(name) && !isDropped) flush();
    if (/^h[1-6]$/.test(name) && !isDropped) heading = Number(name[1]);
    if (name === 'tr' && !isDropped) cells = [];
    if (name === 'img' && attrs.alt && !isDropped) line += ` ${attrs.alt} `;
    if (voids.has(name)) return;
    if (name === 'pre') preDepth++;
    stack.push({
      name,
      dropped: isDropped,
      main: isMain,
      item: (parent?.item ?? false) || name === 'li',
    });
  };
  const closeOne = (): void => {
    const o = stack.pop()!;
    const name = o.name;
    if (name === 'title') inTitle = false;
    if (o.dropped) {
      if (name === 'pre') preDepth--;
      return;
    }
    if ((name === 'td' || name === 'th') && cells !== undefined) {
      cells.push(squash(line));
      line = '';
      return;
    }
    if (name === 'tr' && cells !== undefined) {
      const row = cells.filter((c) => c !== '').join(' | ');
      cells = undefined;
      flush();
      line = row;
    }
    if (blocks.has(name)) {
      // The element's own flags (main, list item) still apply to its last line.
      stack.push(o);
      flush();
      stack.pop();
      if (/^h[1-6]$/.test(name)) heading = 0;
    }
    if (name === 'pre') preDepth--;
  };
  const close = (name: string): void => {
    // Unclosed elements above the match (an open <p>, <li>) close with it. A stray end
    // tag is ignored; the search is bounded, so no input makes this quadratic.
    for (let i = stack.length - 1; i >= Math.max(0, stack.length - CLOSE_SEARCH); i--) {
      if (stack[i]!.name !== name) continue;
      while (stack.length > i) closeOne();
      return;
    }
  };

  const parser = new SAXParser();
  parser.on('startTag', (t: StartTag) => {
    const attrs: Record<string, string> = {};
    for (const a of t.attrs) attrs[a.name] = a.value;
    // An open <p> or <li> ends where the next one starts.
    if ((t.tagName === 'p' || t.tagName === 'li') && top()?.name === t.tagName) close(t.tagName);
    open(t.tagName, attrs);
    if (t.selfClosing && !voids.has(t.tagName)) close(t.tagName);
  });
  parser.on('endTag', (t: { tagName: string }) => close(t.tagName));
  parser.on('text', (t: { text: string }) => {
    if (inTitle) title += t.text;
    if (top()?.dropped) return;
    line += t.text;
  });
  parser.resume();
  await new Promise<void>((resolve, reject) => {
    parser.once('finish', resolve);
    parser.once('error', reject);
    parser.end(html);
  });
  while (stack.length > 0) closeOne();
  flush();

  const mainText = main.toString();
  const allText = all.toString();
  // A "main" that holds a sliver of the page is a widget, not the content.
  const text = mainText.length >= Math.min(200, allText.length * 0.2) ? mainText : allText;
  const t = squash(title);
  if (t !== '') facts.title = t.slice(0, 1024);
  return { text, facts };
}

function meta(facts: DocumentFacts, attrs: Record<string, string>): void {
  const name = (attrs.name ?? attrs.property ?? '').toLowerCase();
  const content = attrs.content?.trim();
  if (!content) return;
  if (name === 'author' || name === 'dc.creator' || name === 'article:author')
    facts.authors = [...(facts.authors ?? []), content.slice(0, 256)].slice(0, 16);
  else if (
    name === 'date' ||
    name === 'dcterms.created' ||
    name === 'dc.date' ||
    name === 'article:published_time'
  )
    facts.created ??= content.slice(0, 64);
  else if (name === 'dcterms.modified' || name === 'article:modified_time')
    facts.modified ??= content.slice(0, 64);
  else if ((name === 'language' || name === 'dc.language') && facts.language === undefined)
    facts.language = content.slice(0, 32);
}
