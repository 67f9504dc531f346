import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * Two validators: query strings and path parameters are text, so numbers are coerced
 * there; a JSON body is taken as sent, so `"k": "10"` is a 400, not a silent 10.
 */
export function installValidation(app: FastifyInstance): void {
  const make = (coerce: boolean): Ajv => {
    const ajv = new Ajv({
      allErrors: false,
      useDefaults: true,
      coerceTypes: coerce ? 'array' : false,
      removeAdditional: false,
      strict: false,
    });
    addFormats(ajv);
    return ajv;
  };
  const strict = make(false);
  const lenient = make(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema),
  );
}
