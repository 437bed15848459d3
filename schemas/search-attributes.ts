/**
 * The typed search attributes the product keeps current on its workflows. The embedded dev
 * server registers them at start; a real cluster needs them registered once by its operator
 * (`temporal operator search-attribute create --name R1Phase --type Keyword`, and so on).
 */
export const SEARCH_ATTRIBUTES = {
  R1Pipeline: 'Keyword',
  R1Phase: 'Keyword',
  R1Step: 'Int',
  R1Status: 'Keyword',
} as const;
