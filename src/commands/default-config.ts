/**
 * The config file the CLI uses: --config, else $WEBFILTER_CONFIG, else the production path.
 * In a file of its own so the CLI's entry point can declare --config without loading anything else.
 */
export const DEFAULT_CONFIG = process.env.WEBFILTER_CONFIG ?? '/etc/webfilter/webfilter.yaml';
