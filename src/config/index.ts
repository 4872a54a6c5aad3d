export { configSchema, type Config, type ProcessorConfig, type DigitsFieldConfig, type CardBrand } from './schema.js';
export { loadConfig, parseConfig, deepMerge, type LoadConfigOptions } from './load.js';
export { productionProblems, developmentWarnings, checkStartupConfig, PRODUCTION_CHECKS, type ProductionCheck } from './validate.js';
