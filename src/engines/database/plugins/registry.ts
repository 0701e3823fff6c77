// The database plugin catalogue: `plugin_name` to a factory and the connection fields the plugin accepts.
import type { z } from 'zod';
import { POSTGRES_PLUGIN_NAME, newPostgresPlugin, postgresConfigShape } from './postgres';
import type { DatabasePlugin } from './types';

/** One catalogue entry: how to make a plugin and which connection fields it reads. */
export interface DatabasePluginEntry {
  factory: () => DatabasePlugin;
  /** Fields of `config/:name` this plugin consumes (passed to it as connection details). */
  configShape: Record<string, z.ZodType>;
  /** Connection fields never returned by a read (Vault strips the password). */
  secretFields: readonly string[];
}

/** Every built-in plugin by the name operators configure (Vault's names). */
export const DATABASE_PLUGINS: Readonly<Record<string, DatabasePluginEntry>> = {
  [POSTGRES_PLUGIN_NAME]: { factory: newPostgresPlugin, configShape: postgresConfigShape, secretFields: ['password'] },
};

/** The catalogue entry for a plugin name, or undefined. */
export function databasePlugin(pluginName: string): DatabasePluginEntry | undefined {
  return Object.prototype.hasOwnProperty.call(DATABASE_PLUGINS, pluginName) ? DATABASE_PLUGINS[pluginName] : undefined;
}

/** The union of every plugin's connection fields, for the engine's `config/:name` schema. */
export function pluginConfigShape(): Record<string, z.ZodType> {
  return Object.assign({}, ...Object.values(DATABASE_PLUGINS).map((p) => p.configShape));
}
