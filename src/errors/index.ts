export { errorCodes, type ErrorCode, type ErrorCodeInfo } from './codes.js';
export { SluiceError, isSluiceError, type SluiceErrorOptions } from './sluice-error.js';
