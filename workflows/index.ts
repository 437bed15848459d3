/** Every workflow the worker registers (the bundle's entry point). */
export { r1Pipeline } from './pipeline';
export { prepareDatasets } from './prepare-datasets';
