export { Engine } from './engine.js';
export { planEngineTasks, type EnginePlan } from './reconciler/plan.js';
