import { html, type Html } from './html.ts';

/** What differs between the apps' pages; the shell around it is the same in all of them. */
export interface PageParts {
  /** The document's language (`<html lang>`). */
  lang: string;
  /** The document's title (what the tab shows). */
  title: Html | string;
  /** More elements for `<head>`, on a line before the title (the waiting page's refresh). */
  head?: Html;
  /** What the top header holds: the app's name and its menu or sign-out form. */
  header: Html;
  /** The page's one `<h1>`. */
  heading: Html | string;
  body: Html;
}

/**
 * The page shell of every example app: one header, one main landmark with one h1, the app's own
 * stylesheet (/style.css) and no script (the apps' Content-Security-Policy allows none).
 */
export function pageShell(parts: PageParts): string {
  return '<!doctype html>\n' + html`<html lang="${parts.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${parts.head ? html`${parts.head}\n` : ''}<title>${parts.title}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="top">${parts.header}</header>
<main>
<h1>${parts.heading}</h1>
${parts.body}
</main>
</body>
</html>`.value;
}
