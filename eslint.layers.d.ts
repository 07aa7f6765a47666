import type { Linter } from 'eslint';

/** Types of eslint.layers.js, for the test that runs its rules. */
export type LayerName =
  | 'domain'
  | 'projections'
  | 'channels'
  | 'application'
  | 'adapters'
  | 'composition'
  | 'server'
  | 'bin'
  | 'bench'
  | 'devtools';

export declare const layers: Readonly<
  Record<LayerName, { readonly files: readonly string[]; readonly may: readonly LayerName[] }>
>;

export declare const layerRules: () => Linter.Config[];
