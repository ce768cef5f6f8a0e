// Checking a step as it is shown: axe-core's WCAG 2.x A and AA rules over
// the whole page (the widget's open shadow root included, and in the iframe
// mode the iframe's document and the widget's shadow root in it), no horizontal
// scrolling at narrow widths, and a full-page screenshot kept as a test
// artefact.
import { expect, type Page, type TestInfo } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** A violation as the failure message lists it. */
interface Finding {
  rule: string;
  impact: string | null | undefined;
  help: string;
  elements: string[];
}

/** Where the step checked shows the widget. */
export interface StepOptions {
  /** `false` for a page without the widget (the sandbox's checkout page). */
  widget?: boolean;
  /** Whether the widget is in an iframe of the page (the iframe mode). */
  inIframe?: boolean;
}

/**
 * Answers a function that checks the step shown now and names its
 * screenshot `name`.
 */
export function stepChecker(
  page: Page,
  testInfo: TestInfo,
): (name: string, options?: StepOptions) => Promise<void> {
  let taken = 0;
  return async (name, { widget = true, inIframe = false } = {}) => {
    // axe-core reaches into an iframe's document by injecting itself there,
    // and a run can miss a frame that was still busy; so a run that did not
    // check the widget is made again (for at most ten seconds). Every run's
    // violations fail at once.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
      const findings: Finding[] = results.violations.map((violation) => ({
        rule: violation.id,
        impact: violation.impact,
        help: violation.help,
        elements: violation.nodes.map((node) => JSON.stringify(node.target)),
      }));
      expect(findings, `axe-core on "${name}"`).toEqual([]);
      if (!widget) break;
      // Shadow DOM nodes have a target path of more than one selector; nodes
      // in an iframe's document have a target of more than one entry, the
      // first selecting the iframe.
      const inShadow = results.passes.some((rule) =>
        rule.nodes.some((node) => (inIframe ? node.target.slice(1) : node.target).some(Array.isArray)),
      );
      if (inShadow) break;
      const where = inIframe ? "shadow root inside the iframe" : "shadow root";
      expect(Date.now() < deadline, `axe-core checked the widget's ${where} on "${name}"`).toBe(true);
    }

    const width = page.viewportSize()?.width ?? 0;
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `no horizontal scrolling on "${name}" at ${width} px`).toBeLessThanOrEqual(width);

    taken += 1;
    const file = `${width}px-${String(taken).padStart(2, "0")}-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.png`;
    await page.screenshot({ path: testInfo.outputPath(file), fullPage: true, animations: "disabled" });
  };
}

/** A gate that holds routed requests until it is opened. */
export interface Gate {
  open(): void;
  wait(): Promise<void>;
}

export function gate(): Gate {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open: () => open(), wait: () => opened };
}
