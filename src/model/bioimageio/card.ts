/**
 * The model card a bioimage.io export needs and a unetflow model folder does not
 * otherwise hold: who made the model, how to cite it, under what licence. It lives in
 * metadata.json as `card`, so that it travels with the model:
 *
 *     "card": { "authors": [{ "name": "Ada Lovelace", "affiliation": "EMBL" }],
 *               "cite": [{ "text": "Ronneberger et al. 2015", "doi": "10.1007/978-3-319-24574-4_28" }],
 *               "license": "MIT", "tags": ["electron-microscopy"] }
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatIssues, toIssues } from '../../codec/report.js';

const Author = t.intersection([t.type({ name: t.string }), t.partial({ affiliation: t.string, email: t.string, orcid: t.string, github_user: t.string })]);
const Cite = t.intersection([t.type({ text: t.string }), t.partial({ doi: t.string, url: t.string })]);

export const Card = t.intersection([
  t.type({ authors: t.array(Author), cite: t.array(Cite), license: t.string }),
  t.partial({
    /** @default the model folder's name */
    name: t.string,
    /** @default the first paragraph of the folder's README.md */
    description: t.string,
    tags: t.array(t.string),
  }),
]);
export type Card = t.TypeOf<typeof Card>;

const EXAMPLE = '"card": { "authors": [{ "name": "..." }], "cite": [{ "text": "...", "doi": "10...." }], "license": "MIT" }';

/** metadata.json's `card`; throws saying what to add when it is missing or incomplete. */
export function readCard(dir: string): Card {
  const path = join(dir, 'metadata.json');
  const card = (JSON.parse(readFileSync(path, 'utf8')) as { card?: unknown }).card;
  if (card === undefined) throw new Error(`${path}: no model card: a bioimage.io package needs authors, citations and a licence; add ${EXAMPLE}`);
  const result = Card.decode(card);
  if (isLeft(result)) throw new Error(`${path}: the model card is incomplete (${EXAMPLE})\n${formatIssues(toIssues(result.left, ['card']))}`);
  const c = result.right;
  if (c.authors.length === 0 || c.cite.length === 0) throw new Error(`${path}: the model card needs at least one author and one citation`);
  for (const cite of c.cite) if (!cite.doi && !cite.url) throw new Error(`${path}: the citation "${cite.text}" needs a doi or a url`);
  return c;
}
