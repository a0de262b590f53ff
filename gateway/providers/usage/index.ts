/** Response-side LLM usage: the streaming observer, the normalised `Usage`, and what a limit charges. */
export { countTokens } from "./count.ts";
export { createUsageObserver, type UsageObserver, type UsageObserverOptions } from "./observer.ts";
export type { Usage } from "./tally.ts";
