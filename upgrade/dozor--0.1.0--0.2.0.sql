/*
 * dozor 0.1.0 -> 0.2.0 (ALTER EXTENSION dozor UPDATE TO '0.2.0').
 *
 * 0.2.0 is in development: this script grows with it until the release, and
 * test/upgrade checks after every change that a 0.1.0 store upgraded by it
 * gives byte-identical feeds and takes new batches.
 *
 * Sections, in the order they must run:
 *   1. stored batches: event indexes bound to their rows
 *   2. cancelled sessions: tombstones
 *   3. functions that changed
 */
\echo Use "ALTER EXTENSION dozor UPDATE TO '0.2.0'" to load this file. \quit
