export {
  DeadLetters,
  type DeadLetter,
  type DeadLetterSummary,
  type LetterScope,
  type ListOptions,
  type RedriveProgress,
  type RedriveResult,
  type RedriveSelection,
} from './dead-letters.js';
