import { describe, expect, it } from 'vitest';
import { formFor20250618, urlAnswerFromForm, urlElicitationAsForm } from '../src/elicitation-forms';

/** A 2025-11-25 form with every SEP-1330 enum shape and SEP-1034 defaults. */
const form = {
  type: 'object',
  properties: {
    color: { type: 'string', title: 'Colour', enum: ['red', 'green', 'blue'], default: 'green' },
    size: {
      type: 'string',
      title: 'Size',
      description: 'Pick one.',
      oneOf: [
        { const: 's', title: 'Small' },
        { const: 'm', title: 'Medium' },
      ],
      default: 'm',
    },
    toppings: {
      type: 'array',
      title: 'Toppings',
      items: {
        anyOf: [
          { const: 'ham', title: 'Ham' },
          { const: 'egg', title: 'Egg' },
        ],
      },
      minItems: 1,
      default: ['egg'],
    },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
    count: { type: 'integer', minimum: 1, default: 3 },
    name: { type: 'string', minLength: 1 },
    notify: { type: 'boolean', default: true },
    legacy: { type: 'string', enum: ['x', 'y'], enumNames: ['Ex', 'Why'] },
  },
  required: ['color'],
};

describe('formFor20250618', () => {
  it('writes SEP-1330 enums and SEP-1034 defaults in 2025-06-18 shapes, never changing the input', () => {
    const copy = structuredClone(form);
    const { requestedSchema } = formFor20250618(form);
    expect(form).toEqual(copy);
    expect(requestedSchema).toEqual({
      type: 'object',
      required: ['color'],
      properties: {
        color: {
          type: 'string',
          title: 'Colour',
          enum: ['red', 'green', 'blue'],
          description: 'Default: green (used when left empty).',
        },
        size: {
          type: 'string',
          title: 'Size',
          description: 'Pick one. Default: Medium (used when left empty).',
          enum: ['s', 'm'],
          enumNames: ['Small', 'Medium'],
        },
        toppings: {
          type: 'string',
          title: 'Toppings',
          description:
            'Choose at least 1 of: Ham, Egg (separate with commas). Default: Egg (used when left empty).',
        },
        tags: { type: 'string', description: 'Choose any of: a, b (separate with commas).' },
        count: { type: 'integer', minimum: 1, description: 'Default: 3 (used when left empty).' },
        name: form.properties.name,
        notify: form.properties.notify,
        legacy: form.properties.legacy,
      },
    });
  });

  it('maps an accepted answer back: lists from text, defaults for fields left empty', () => {
    const { content } = formFor20250618(form);
    expect(content).toBeDefined();
    expect(content!({ color: 'red', toppings: 'ham, EGG', tags: 'b,zz', count: 5 })).toEqual({
      color: 'red',
      size: 'm',
      toppings: ['ham', 'egg'],
      tags: ['b', 'zz'],
      count: 5,
    });
    expect(content!({ color: 'blue', toppings: ' , ' })).toEqual({
      color: 'blue',
      size: 'm',
      toppings: ['egg'],
      count: 3,
    });
  });

  it('returns the same schema and no mapping when the form has nothing newer', () => {
    const plain = {
      type: 'object',
      properties: { name: { type: 'string' }, ok: { type: 'boolean', default: false } },
    };
    const out = formFor20250618(plain);
    expect(out.requestedSchema).toBe(plain);
    expect(out.content).toBeUndefined();
    expect(formFor20250618('nonsense')).toEqual({ requestedSchema: {}, content: undefined });
  });
});

describe('URL elicitation as a form', () => {
  const params = {
    mode: 'url',
    message: 'Sign in to the CRM',
    url: 'https://crm.example.com/oauth?state=1',
    elicitationId: 'e-1',
    _meta: { k: 1 },
  };

  it('carries the URL and its host in the message of a form without fields', () => {
    expect(urlElicitationAsForm(params, false)).toEqual({
      message:
        'Sign in to the CRM\n\nOpen this link (on crm.example.com) to continue, then accept: https://crm.example.com/oauth?state=1',
      requestedSchema: { type: 'object', properties: {} },
      _meta: { k: 1 },
    });
    expect(urlElicitationAsForm(params, true)['mode']).toBe('form');
  });

  it('answers the upstream with the action only', () => {
    expect(urlAnswerFromForm({ action: 'accept', content: {} })).toEqual({ action: 'accept' });
    expect(urlAnswerFromForm({ action: 'decline' })).toEqual({ action: 'decline' });
    expect(urlAnswerFromForm({ action: 'cancel', _meta: { x: 1 } })).toEqual({
      action: 'cancel',
      _meta: { x: 1 },
    });
  });
});
