// Every workflow the worker registers.
export { initializeCanaryWorkflow } from './initialize.ts';
export { rolloutWorkflow } from './rollout.ts';
