/** API shared by the Google Cloud providers: the network egress a host declares for its machines. */
package dev.acceldispatch.gcp;
