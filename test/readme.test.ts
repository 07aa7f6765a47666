import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, repoText, tableUnder, topLevelFolders } from './support/docs.js';

/**
 * README.md stays true to the tree: its layout table names every top-level folder (and nothing
 * that is not there), and it leads to every document of docs/. That the paths it names exist is
 * checked with the documents' (test/docs/references.test.ts).
 */

const readme = repoText('README.md');

/** The first column of the layout table, as written (`domain/`, `server.ts`). */
const layoutPaths = (): string[] =>
  tableUnder(readme, 'Layout').map(([path = '']) => path.replace(/^`|`$/g, ''));

describe('README.md', () => {
  it('names every top-level folder of the repository in its layout table', () => {
    const named = layoutPaths()
      .filter((path) => path.endsWith('/'))
      .map((path) => path.slice(0, -1))
      .sort();
    expect(topLevelFolders()).to.include.members(['domain', 'application', 'docs', 'test']);
    expect(named).to.deep.equal(topLevelFolders());
  });

  it('names the composition root in its layout table', () => {
    expect(layoutPaths()).to.include('server.ts');
  });

  it('links every document of docs/', () => {
    const documents = readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md'));
    expect(documents).to.include.members(['api.md', 'architecture.md', 'bark.md', 'plugins.md']);
    for (const name of documents) expect(readme, name).to.include(`](docs/${name})`);
  });

  it('opens with one bold line saying what Tidings is', () => {
    const [title, blank, opening] = readme.split('\n');
    expect(title).to.equal('# Tidings');
    expect(blank).to.equal('');
    expect(opening).to.match(/^\*\*Tidings is /);
  });
});
