import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { projectRoot } from '../../infra/local/paths';

/** Where screenshots go for people to look at (git-ignored). */
const ARTIFACTS = join(projectRoot, 'test-artifacts', 'ui');

/** How long to wait for what the UI loads through the server's API; a busy machine takes a while. */
const LOAD_MS = 60_000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The pages of the Temporal Web UI (2.54) that the audit uses, read the way a person reads them:
 * through roles and visible names (tables, rows, tabs, links), not the UI's CSS classes.
 */
export class TemporalUi {
  constructor(
    readonly page: Page,
    private readonly base: string,
    private readonly namespace: string,
  ) {
    page.setDefaultTimeout(LOAD_MS);
  }

  /** The workflow list for a visibility query, as typed into the UI's query box: the listed workflow ids. */
  async listWorkflows(query: string): Promise<string[]> {
    await this.page.goto(`${this.base}/namespaces/${encodeURIComponent(this.namespace)}/workflows?query=${encodeURIComponent(query)}`);
    const rows = this.page.getByRole('table', { name: 'Workflows' }).getByRole('row');
    // Row 0 is the header; the first data row's id link appears once the list has loaded.
    await rows.nth(1).getByRole('link').first().waitFor();
    return Promise.all((await rows.all()).slice(1).map((row) => row.getByRole('link').first().innerText()));
  }

  /** Opens a workflow from the list on screen, as a person clicks it. */
  async openWorkflow(workflowId: string): Promise<void> {
    await this.page.getByRole('link', { name: workflowId, exact: true }).first().click();
    // The page's title reads "Copy <id>": the id comes with a copy button.
    await this.page.getByRole('heading', { level: 1, name: new RegExp(`${escapeRegExp(workflowId)}$`) }).waitFor();
  }

  /** Selects a tab of the workflow page; its label carries a count after the name ("Event History 98"). */
  async openTab(name: string): Promise<void> {
    await this.page.getByRole('tab', { name: new RegExp(`^${escapeRegExp(name)}`) }).click();
  }

  /** The workflow ids linked under `prefix` on the page, top to bottom (e.g. the children on the Relationships tab). */
  async linkedWorkflows(prefix: string): Promise<string[]> {
    const links = this.page.getByRole('link', { name: new RegExp(`^${escapeRegExp(prefix)}`) });
    await links.first().waitFor();
    return links.allInnerTexts();
  }

  /** A row of the event history whose visible text matches, once the history has loaded. */
  async eventRow(text: RegExp): Promise<Locator> {
    const row = this.page.getByRole('row', { name: text }).first();
    await row.waitFor();
    return row;
  }

  /** Expands a row of the event history; its events' details open in the table row below it. */
  async expandEventRow(row: Locator): Promise<Locator> {
    await row.getByRole('button', { name: 'Expand details' }).click();
    const details = row.locator('xpath=following-sibling::tr[1]');
    await details.waitFor();
    return details;
  }

  /** Waits until the page shows `text`: a tab's content arrives after the tab is selected. */
  async waitForText(text: string | RegExp): Promise<void> {
    await this.page.locator('body').filter({ hasText: text }).waitFor();
  }

  /**
   * The text of the page's frame that shows `pattern`, once one does. The UI renders summaries and
   * details (markdown) in sandboxed iframes, out of reach of the page's own text.
   */
  async frameText(pattern: RegExp): Promise<string> {
    let texts: string[] = [];
    for (const deadline = Date.now() + LOAD_MS; Date.now() < deadline; await this.page.waitForTimeout(250)) {
      texts = await Promise.all(this.page.frames().slice(1).map((frame) => frame.locator('body').innerText().catch(() => '')));
      const match = texts.find((text) => pattern.test(text));
      if (match !== undefined) return match;
    }
    throw new Error(`no frame of ${this.page.url()} shows ${pattern}; they show ${JSON.stringify(texts)}`);
  }

  /** Saves what is on screen, with `anchor` scrolled to the middle, as test-artifacts/ui/<name>.png. */
  async screenshot(name: string, anchor?: Locator): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    if (anchor) await anchor.first().evaluate((element) => element.scrollIntoView({ block: 'center' }));
    await this.page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  }
}
