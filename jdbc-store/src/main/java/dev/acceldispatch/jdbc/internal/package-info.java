/**
 * Not API: the jobs table's statements, migrations and start-up checks, and the JSON form of specs
 * and attempts. May change at any time.
 */
package dev.acceldispatch.jdbc.internal;
