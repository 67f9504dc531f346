export {
  DeadLetters,
  type DeadLetter,
  type DeadLetterSummary,
  type ListOptions,
  type RedriveResult,
  type RedriveSelection,
} from './dead-letters.js';
