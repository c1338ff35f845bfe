package dev.acceldispatch.bench.replay;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The replay's two charts, drawn with JFreeChart and written as SVG (JFreeSVG) and PNG: one
 * colour per policy in both, a legend JFreeChart lays out (one row per entry when needed), and a
 * time axis that ends shortly after the last submission, not at the slowest policy's drain.
 */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 700;
  /** One colour per policy key, the same in every chart (colour-blind-safe Okabe-Ito palette). */
  private static final Map<String, Color> COLORS = Map.of(
      "a", new Color(0x99, 0x99, 0x99), "b", new Color(0xD5, 0x5E, 0x00), "c", new Color(0x00, 0x72, 0xB2),
      "d", new Color(0x56, 0xB4, 0xE9), "e", new Color(0xE6, 0x9F, 0x00), "o", new Color(0x00, 0x9E, 0x73));

  private Charts() {}

  /** Writes {@code <name>.svg/.png} and {@code <name>-summary.svg/.png}. */
  static void write(Path dir, String name, List<PolicyResult> rs) throws IOException {
    // Chart drawing uses AWT fonts; a server JVM has no display.
    System.setProperty("java.awt.headless", "true");
    save(dir, name, timeline(name, rs));
    save(dir, name + "-summary", summary(name, rs));
  }

  private static void save(Path dir, String file, JFreeChart chart) throws IOException {
    SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
    chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
    Files.writeString(dir.resolve(file + ".svg"), g.getSVGDocument(), StandardCharsets.UTF_8);
    ChartUtils.saveChartAsPNG(dir.resolve(file + ".png").toFile(), chart, WIDTH, HEIGHT);
  }

  /** Queued jobs and cumulative cost over the window (days), one line per policy. */
  static JFreeChart timeline(String name, List<PolicyResult> rs) {
    double lastSubmit = rs.stream().mapToDouble(PolicyResult::lastSubmitHours).max().orElse(0);
    // Show the window plus a tenth (at least a day): the drains after it are in the table.
    double endDays = Math.max(lastSubmit / 24 * 1.1, lastSubmit / 24 + 1);
    XYSeriesCollection queued = new XYSeriesCollection();
    XYSeriesCollection cost = new XYSeriesCollection();
    for (PolicyResult r : rs) {
      XYSeries q = new XYSeries(label(r));
      XYSeries c = new XYSeries(label(r));
      for (PolicyResult.Sample s : r.samples()) {
        double days = s.hours() / 24;
        if (days <= endDays) {
          q.add(days, s.queued());
          c.add(days, s.cumulativeCost() / 1000);
        }
      }
      queued.addSeries(q);
      cost.addSeries(c);
    }
    NumberAxis time = new NumberAxis("simulated days since the window's start (axis ends 10 % after the last submission)");
    time.setRange(0, endDays);
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(time);
    plot.setGap(14);
    XYPlot top = linePlot(queued, "jobs waiting (queued or held)", rs);
    plot.add(top, 1);
    plot.add(linePlot(cost, "cumulative cost (thousand USD)", rs), 1);
    // Both panels have the same series: one legend entry per policy, not two.
    plot.setFixedLegendItems(top.getLegendItems());
    JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    style(chart, "Trace replay " + name + ": jobs waiting and money spent over time");
    return chart;
  }

  private static XYPlot linePlot(XYSeriesCollection data, String axis, List<PolicyResult> rs) {
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < rs.size(); i++) {
      renderer.setSeriesPaint(i, color(rs.get(i)));
      renderer.setSeriesStroke(i, new BasicStroke(rs.get(i).policy().key().equals("o") ? 2.5f : 1.6f));
    }
    NumberAxis y = new NumberAxis(axis);
    y.setAutoRangeIncludesZero(true);
    // An empty queue is a flat line at 0 on a readable axis, not ticks of 1e-9.
    y.setAutoRangeMinimumSize(10);
    y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    XYPlot p = new XYPlot(data, null, y, renderer);
    p.setBackgroundPaint(Color.WHITE);
    p.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    p.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    return p;
  }

  /** Per policy: cost over the clairvoyant reference (or the bound), and time to start p95. */
  static JFreeChart summary(String name, List<PolicyResult> rs) {
    boolean hasOracle = Report.clairvoyantCost(rs).filter(c -> c > 0).isPresent();
    double ref = hasOracle ? Report.clairvoyantCost(rs).get() : rs.isEmpty() ? 1 : rs.get(0).lowerBound();
    DefaultCategoryDataset cost = new DefaultCategoryDataset();
    DefaultCategoryDataset tts = new DefaultCategoryDataset();
    double worst = rs.stream().mapToDouble(r -> Double.isNaN(r.timeToStart()[1]) ? 0 : r.timeToStart()[1]).max().orElse(0);
    boolean hours = worst >= 7200;
    for (PolicyResult r : rs) {
      cost.addValue(ref <= 0 ? 0 : r.cost() / ref, "cost", label(r));
      double p95 = Double.isNaN(r.timeToStart()[1]) ? 0 : r.timeToStart()[1];
      tts.addValue(hours ? p95 / 3600 : p95 / 60, "tts", label(r));
    }
    CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis(null));
    plot.setOrientation(PlotOrientation.HORIZONTAL);
    plot.setGap(14);
    plot.add(barPlot(cost, hasOracle ? "cost / clairvoyant (o)  (lower is better)" : "cost / unlimited-capacity bound", rs, "%.3f"), 1);
    plot.add(barPlot(tts, "time to start p95, " + (hours ? "hours" : "minutes") + "  (lower is better)", rs, "%.2f"), 1);
    plot.setOrientation(PlotOrientation.HORIZONTAL);
    JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    style(chart, "Trace replay " + name + ": cost and time to start per policy");
    return chart;
  }

  private static CategoryPlot barPlot(DefaultCategoryDataset data, String axis, List<PolicyResult> rs, String format) {
    BarRenderer renderer = new BarRenderer() {
      @Override
      public java.awt.Paint getItemPaint(int row, int column) {
        return color(rs.get(column));
      }
    };
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new java.text.DecimalFormat(
        format.equals("%.3f") ? "0.000" : "0.00", java.text.DecimalFormatSymbols.getInstance(Locale.ROOT))));
    renderer.setDefaultItemLabelsVisible(true);
    renderer.setDefaultPositiveItemLabelPosition(new org.jfree.chart.labels.ItemLabelPosition(
        org.jfree.chart.labels.ItemLabelAnchor.OUTSIDE3, org.jfree.chart.ui.TextAnchor.CENTER_LEFT));
    NumberAxis y = new NumberAxis(axis);
    y.setUpperMargin(0.15);
    CategoryPlot p = new CategoryPlot(data, null, y, renderer);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    return p;
  }

  private static void style(JFreeChart chart, String title) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.setTitle(new TextTitle(title, new Font("SansSerif", Font.BOLD, 16)));
    LegendTitle legend = chart.getLegend();
    if (legend != null) {
      legend.setPosition(RectangleEdge.BOTTOM);
      legend.setFrame(BlockBorder.NONE);
      legend.setItemFont(new Font("SansSerif", Font.PLAIN, 12));
    }
  }

  private static String label(PolicyResult r) {
    return "(" + r.policy().key() + ") " + r.policy().name();
  }

  private static Color color(PolicyResult r) {
    return COLORS.getOrDefault(r.policy().key(), Color.BLACK);
  }
}
