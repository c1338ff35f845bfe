package dev.acceldispatch.azure.gpu;

import com.azure.resourcemanager.compute.models.ImageReference;

/**
 * A marketplace image in the form {@code az vm create --image} takes: {@code
 * publisher:offer:sku:version}.
 */
record ImageUrn(String publisher, String offer, String sku, String version) {
  /**
   * Parses {@code publisher:offer:sku:version}.
   *
   * @param field what to name in the error (for example {@code image})
   * @throws IllegalArgumentException naming {@code field} when the text has not four non-empty parts
   */
  static ImageUrn parse(String field, String urn) {
    String[] p = urn == null ? new String[0] : urn.split(":", -1);
    if (p.length != 4 || p[0].isBlank() || p[1].isBlank() || p[2].isBlank() || p[3].isBlank()) {
      throw new IllegalArgumentException(field + ": expected publisher:offer:sku:version,"
          + " e.g. microsoft-dsvm:ubuntu-hpc:2204:latest, got '" + urn + "'");
    }
    return new ImageUrn(p[0], p[1], p[2], p[3]);
  }

  ImageReference toReference() {
    return new ImageReference().withPublisher(publisher).withOffer(offer).withSku(sku).withVersion(version);
  }

  @Override
  public String toString() {
    return publisher + ":" + offer + ":" + sku + ":" + version;
  }
}
