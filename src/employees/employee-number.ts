/**
 * The one reading of an employee number, for paths, query strings, forms and the command line.
 *
 * Only decimal digits are a number here. `Number()` and JSON-schema coercion also read `+10011`,
 * `10011.0`, `0x271b`, ` 10011` and `1e4` as numbers, so two checks of the same input could
 * disagree on whom it names: an ownership check that refuses the text while a later lookup finds
 * someone with `Number(text)`. One strict reading, used everywhere, leaves no such gap.
 */
import { validationFailed } from '../errors.js';
import { MAX_EMP_NO } from './employee-repository.js';

/** The rule, said after a field's name (`emp_no must be …`), as the request validator's messages are. */
export const EMP_NO_RULE = `must be a whole number from 1 to ${MAX_EMP_NO}, in digits only`;
export const EMP_NO_MESSAGE = `Employee number ${EMP_NO_RULE}`;

/** Ten digits at most: MAX_EMP_NO has ten, and a longer string need not be converted to know it is too big. */
const DIGITS = /^[0-9]{1,10}$/;

/**
 * The employee number `value` spells, or undefined when it spells none: a string of digits only
 * (no sign, space, decimal point, exponent or hex prefix) from 1 to MAX_EMP_NO, or a number that
 * is such a whole number already (a JSON client's `"empNo": 10011`).
 */
export function parseEmpNo(value: unknown): number | undefined {
  let empNo: number;
  if (typeof value === 'number') empNo = value;
  else if (typeof value === 'string' && DIGITS.test(value)) empNo = Number(value);
  else return undefined;
  return Number.isSafeInteger(empNo) && empNo >= 1 && empNo <= MAX_EMP_NO ? empNo : undefined;
}

/** Whether `text` is an employee number as `parseEmpNo` reads it (the `emp-no` schema format). */
export function isEmpNoText(text: string): boolean {
  return parseEmpNo(text) !== undefined;
}

/** The employee number `value` spells; a 422 naming `field` when it spells none. */
export function requireEmpNo(value: unknown, field: string): number {
  const empNo = parseEmpNo(value);
  if (empNo === undefined) throw validationFailed([{ field, message: EMP_NO_MESSAGE }]);
  return empNo;
}
