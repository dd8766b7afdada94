#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

/* Figures are plain cairo drawing functions over plain data: the same call
 * paints a widget, a PNG, an SVG or a PDF. Sizes are in points. */

typedef enum
{
  CS_THEME_LIGHT,
  CS_THEME_DARK,
  CS_THEME_TRANSPARENT,
} CsFigureTheme;

typedef struct
{
  double        width, height;   /* points */
  double        font_size;       /* points */
  CsFigureTheme theme;
} CsFigureStyle;

/* slide (16:9, 960 × 540), square (600 × 600), column (paper column, 252 × 200). */
gboolean cs_figure_style_preset   (const char     *preset,
                                   CsFigureStyle  *style);
gboolean cs_figure_theme_parse    (const char     *name,
                                   CsFigureTheme  *theme);
/* A preset, a theme and a font size (≤ 0: the preset's) into a style; an
 * error naming the choices when the preset or theme is unknown. */
gboolean cs_figure_style_from     (const char     *preset,
                                   const char     *theme,
                                   double          font_size,
                                   CsFigureStyle  *style,
                                   GError        **error);
/* Okabe–Ito colour-blind-safe palette. */
void     cs_figure_palette        (guint           i,
                                   double         *r,
                                   double         *g,
                                   double         *b);

typedef void (*CsFigureDrawFunc) (cairo_t *cr, double width, double height, const CsFigureStyle *style,
                                  gpointer data);

/* Writes PNG (at `scale` pixels per point), SVG or PDF by the file's
 * extension, to a temporary file renamed into place. */
gboolean cs_figure_export         (const char           *path,
                                   const CsFigureStyle  *style,
                                   double                scale,
                                   CsFigureDrawFunc      draw,
                                   gpointer              data,
                                   GError              **error);

typedef struct
{
  const char   *name;
  const gint32 *ids;
  guint         n;
  guint         colour;      /* palette index */
  gboolean      hidden;      /* listed in the legend (greyed), its points not drawn */
  const guint8 *train;       /* [n]: 1 where the token trained the category's vector (drawn as a ring,
                              * a held-out one as a dot); NULL: no such marks */
} CsFigureGroup;

typedef struct
{
  double      x0, y0, x1, y1;
  guint       colour;
  const char *label;         /* Pango markup, or NULL */
} CsFigureArrow;

/* The projection's data layer (the grey cloud, the zero lines and the
 * categories' dots) as one raster, kept between frames by an interactive
 * view: while only the data range's offset changes (panning, or hovering,
 * which changes none of it) it is moved by whole pixels instead of drawn
 * again. Drawn over a margin around the visible range; rebuilt when the
 * scale, the size, the colours, the points or the groups change (compared by
 * a checksum, so a view may refill its arrays in place). Only used on image
 * surfaces: SVG and PDF exports never see it. */
typedef struct _CsFigureCloudCache CsFigureCloudCache;

CsFigureCloudCache *cs_figure_cloud_cache_new  (void);
void                cs_figure_cloud_cache_free (CsFigureCloudCache *cache);
/* How many times the cache drew the raster, and how many frames reused it. */
void                cs_figure_cloud_cache_stats (const CsFigureCloudCache *cache,
                                                 guint                    *rasterised,
                                                 guint                    *reused);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsFigureCloudCache, cs_figure_cloud_cache_free)

typedef struct
{
  gint64               n_points;       /* every vocabulary token, drawn as a grey density layer */
  const float         *x, *y;
  const CsFigureGroup *groups;         /* coloured on top, in order */
  guint                n_groups;
  const CsFigureArrow *arrows;
  guint                n_arrows;
  const char          *x_label;        /* Pango markup */
  const char          *y_label;
  const char          *title;
  const gint32        *label_ids;      /* tokens to write next to their dot */
  const char * const  *label_texts;
  guint                n_labels;
  /* Interactive use: a fixed data range (zoom and pan) instead of the
   * automatic one, and one token drawn with a ring. */
  gboolean             fixed_range;
  double               range[4];       /* xmin, xmax, ymin, ymax */
  gint64               highlight;      /* token id + 1; 0: none (so zero-initialised means none) */
  /* Tokens marked from a linked view (a Mapper node's members): drawn with
   * rings in the foreground colour, on top of everything. */
  const gint32        *marked;
  guint                n_marked;
  /* Leave out the groups' training tokens: with d in the thousands and a
   * few hundred training tokens, those project at about 1 by construction
   * and would read as findings. */
  gboolean             held_out_only;
  /* Optional (an interactive view's): reuse of the cloud's raster. */
  CsFigureCloudCache  *cloud_cache;
} CsProjectionFigure;

/* Where the plot area lies and which data range it shows, as
 * cs_figure_draw_projection lays them out: for hit-testing and zooming. */
typedef struct
{
  double x0, y0, w, h;
  double xmin, xmax, ymin, ymax;
} CsFigureFrame;

/* The legend entry (group index) under the point (px, py) of a projection
 * drawn in the rectangle x, y, width, height; -1 when none. */
int      cs_figure_projection_legend_at (double                    x,
                                         double                    y,
                                         double                    width,
                                         double                    height,
                                         const CsFigureStyle      *style,
                                         const CsProjectionFigure *fig,
                                         double                    px,
                                         double                    py);
/* The centre of a legend entry's marker, for the same layout. */
gboolean cs_figure_projection_legend_entry (double                    x,
                                            double                    y,
                                            double                    width,
                                            double                    height,
                                            const CsFigureStyle      *style,
                                            const CsProjectionFigure *fig,
                                            guint                     group,
                                            double                   *cx,
                                            double                   *cy);

/* The legend's box (x, y, w, h) as drawn: in the plot's emptiest corner,
 * or beside the plot when every corner would cover points; FALSE without
 * a legend. */
gboolean cs_figure_projection_legend_box (double                    x,
                                          double                    y,
                                          double                    width,
                                          double                    height,
                                          const CsFigureStyle      *style,
                                          const CsProjectionFigure *fig,
                                          double                    box[4]);
/* An arrow's label box (x, y, w, h) as drawn, inside the plot; FALSE for
 * an arrow without a label. */
gboolean cs_figure_projection_arrow_label_box (double                    x,
                                               double                    y,
                                               double                    width,
                                               double                    height,
                                               const CsFigureStyle      *style,
                                               const CsProjectionFigure *fig,
                                               guint                     arrow,
                                               double                    box[4]);

void     cs_figure_projection_frame (double                    x,
                                     double                    y,
                                     double                    width,
                                     double                    height,
                                     const CsFigureStyle      *style,
                                     const CsProjectionFigure *fig,
                                     CsFigureFrame            *frame);

/* The vocabulary in three dimensions with categories and the simplex of
 * chosen categories (the paper's Figure 6): points x, y, z; groups as in
 * the projection; vertices: the chosen categories' ℓ̄ (3 or 4), drawn as
 * arrows from the origin with translucent faces between their tips. The
 * view: a turn by azimuth about the vertical axis z, then a tilt by
 * elevation (degrees; 90 looks straight down). With x₁ = x cos a − y sin a,
 * y₁ = x sin a + y cos a, a point lands at screen right u = x₁, up
 * w = z cos e + y₁ sin e, at depth y₁ cos e − z sin e (smaller: nearer),
 * scaled about the centre of the origin and the vertices. */
typedef struct
{
  gint64               n_points;
  const float         *x, *y, *z;
  const CsFigureGroup *groups;
  guint                n_groups;
  guint                n_vertices;          /* 0, 3 or 4 */
  double               vertex[4][3];
  guint                vertex_colour[4];    /* palette index */
  const char          *vertex_label[4];     /* markup */
  const char          *axis_label[3];       /* markup */
  const char          *title;
  double               azimuth, elevation;  /* degrees */
  double               zoom;                /* 1 (or 0): the data fits */
} CsSimplexFigure;

/* Where a point of the data lands in a simplex figure drawn in the
 * rectangle: screen (sx, sy) and its depth (smaller: nearer). */
void     cs_figure_simplex_point   (double                    x,
                                    double                    y,
                                    double                    width,
                                    double                    height,
                                    const CsFigureStyle      *style,
                                    const CsSimplexFigure    *fig,
                                    const double              p[3],
                                    double                   *sx,
                                    double                   *sy,
                                    double                   *depth);
/* The group point (group index and position in it) drawn nearest to
 * (px, py) within 8 pixels, the nearest to the viewer where several are;
 * FALSE when none. */
gboolean cs_figure_simplex_point_at (double                   x,
                                     double                   y,
                                     double                   width,
                                     double                   height,
                                     const CsFigureStyle     *style,
                                     const CsSimplexFigure   *fig,
                                     double                   px,
                                     double                   py,
                                     guint                   *group,
                                     guint                   *index);
void     cs_figure_draw_simplex    (cairo_t                  *cr,
                                    double                    x,
                                    double                    y,
                                    double                    width,
                                    double                    height,
                                    const CsFigureStyle      *style,
                                    const CsSimplexFigure    *fig);

void     cs_figure_draw_projection (cairo_t                  *cr,
                                    double                    x,
                                    double                    y,
                                    double                    width,
                                    double                    height,
                                    const CsFigureStyle      *style,
                                    const CsProjectionFigure *fig);

typedef struct
{
  guint               n;
  const char * const *names;
  const double       *matrix;          /* [n, n], NAN cells drawn hatched-grey */
  const char         *title;
} CsHeatmapFigure;

/* The cell (row, column) under (px, py) of a heatmap drawn in the rectangle. */
gboolean cs_figure_heatmap_cell_at (double                 x,
                                    double                 y,
                                    double                 width,
                                    double                 height,
                                    const CsFigureStyle   *style,
                                    const CsHeatmapFigure *fig,
                                    double                 px,
                                    double                 py,
                                    guint                 *row,
                                    guint                 *col);
void     cs_figure_draw_heatmap    (cairo_t               *cr,
                                    double                 x,
                                    double                 y,
                                    double                 width,
                                    double                 height,
                                    const CsFigureStyle   *style,
                                    const CsHeatmapFigure *fig);

typedef struct
{
  guint               n;
  const char * const *names;
  const double       *mean;            /* [n, 4]: train, held-out, random, held-out with shuffled g */
  const double       *std;             /* [n, 4] */
  const char         *title;
} CsValidationFigure;

void     cs_figure_draw_validation (cairo_t                  *cr,
                                    double                    x,
                                    double                    y,
                                    double                    width,
                                    double                    height,
                                    const CsFigureStyle      *style,
                                    const CsValidationFigure *fig);

typedef struct
{
  guint               n;
  const char * const *names;           /* "bird ← animal" */
  const double       *cos_plain;       /* cos(ℓ̄_c, ℓ̄_p) */
  const double       *cos_diff;        /* cos(ℓ̄_c − ℓ̄_p, ℓ̄_p) */
  const char         *title;
} CsOrthogonalityFigure;

void     cs_figure_draw_orthogonality (cairo_t                     *cr,
                                       double                       x,
                                       double                       y,
                                       double                       width,
                                       double                       height,
                                       const CsFigureStyle         *style,
                                       const CsOrthogonalityFigure *fig);

/* A graph (the Mapper view): nodes at layout positions in [0, 1]², sized
 * by the log of their member count, coloured by a value (sequential colour
 * map with a colour bar) or drawn as pie charts of group fractions; edges as
 * lines whose width follows their weight. */
typedef struct
{
  guint               n_nodes;
  const double       *x, *y;           /* layout, [0, 1]² */
  const int          *size;            /* members per node */
  guint               n_edges;
  const int          *edges;           /* [n_edges, 2] node pairs */
  const double       *edge_weight;     /* [n_edges], 0 … 1 */
  const double       *values;          /* [n_nodes] colour values, or NULL */
  const char         *value_label;     /* colour bar caption (markup) */
  guint               n_groups;        /* pies when > 0 */
  const char * const *group_names;     /* markup */
  const double       *fractions;       /* [n_nodes, n_groups] */
  const gboolean     *highlight;       /* [n_nodes] drawn with a ring, others faded; or NULL */
  int                 hover;           /* node drawn with a ring; −1: none */
  const char         *title;
  const char         *caption;         /* a line under the title: statistics */
  /* Interactive use: the layout rectangle shown (zoom and pan) instead of
   * the whole [0, 1]². */
  gboolean            fixed_view;
  double              view[4];         /* xmin, xmax, ymin, ymax */
} CsGraphFigure;

void     cs_figure_graph_frame     (double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsGraphFigure  *fig,
                                    CsFigureFrame        *frame);
/* The node under (px, py), −1 when none. */
int      cs_figure_graph_node_at   (double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsGraphFigure  *fig,
                                    double                px,
                                    double                py);
void     cs_figure_draw_graph      (cairo_t              *cr,
                                    double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsGraphFigure  *fig);
/* The sequential colour map of graph values (viridis), t in [0, 1]. */
void     cs_figure_sequential      (double                t,
                                    double               *r,
                                    double               *g,
                                    double               *b);

/* Lines: y against x for each series (a layer), with ±sd bands when given. */
typedef struct
{
  guint               n_x;
  const double       *x;               /* [n_x] */
  guint               n_series;
  const char * const *series_names;    /* markup */
  const double       *y;               /* [n_series, n_x] */
  const double       *sd;              /* [n_series, n_x] or NULL */
  const char         *x_label, *y_label, *title;
} CsLinesFigure;

void     cs_figure_draw_lines      (cairo_t              *cr,
                                    double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsLinesFigure  *fig);

/* A rectangular matrix: rows × columns with labels, a diverging colour map
 * symmetric about 0 (or sequential over [min, max]) and a colour bar. */
typedef struct
{
  guint               n_rows, n_cols;
  const char * const *row_labels;      /* markup */
  const char * const *col_labels;      /* plain text */
  const double       *values;          /* [n_rows, n_cols]; NAN drawn grey */
  gboolean            diverging;
  gboolean            annotate;        /* write values in the cells when they fit */
  const char         *row_title, *col_title, *value_label, *title;
  /* Diverging only: columns of different kinds (units) each scaled by the
   * largest |value| of their group; the colour bar then reads −1 … 1. */
  const int          *col_group;       /* [n_cols] or NULL */
  const char         *annotate_format; /* printf format of a cell's value; NULL: "%.3g" */
  double              range;           /* diverging: the colours span −range … range when > 0 (else ±max) */
} CsMatrixFigure;

/* The cell under (px, py), for hover. */
gboolean cs_figure_matrix_cell_at  (double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsMatrixFigure *fig,
                                    double                px,
                                    double                py,
                                    guint                *row,
                                    guint                *col);
/* The rectangle (x, y, width, height) of a cell. */
gboolean cs_figure_matrix_cell_rect (double               x,
                                     double               y,
                                     double               width,
                                     double               height,
                                     const CsFigureStyle *style,
                                     const CsMatrixFigure *fig,
                                     guint                row,
                                     guint                col,
                                     double              *rect);
void     cs_figure_draw_matrix     (cairo_t              *cr,
                                    double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsMatrixFigure *fig);

/* The paper's Figure 4 for every WordNet synset at once: three aligned
 * heatmaps in hierarchy order (the WordNet distance as 1/(d + 1), the
 * cosines of ℓ̄, the cosines of child − parent differences), showing the
 * block [first, first + count) of rows and columns; the biggest blocks'
 * names label the rows, as many as fit, so labels read at any zoom. */
typedef struct
{
  guint               n;
  const char * const *names;           /* plain text, hierarchy (depth-first) order */
  const guint        *block_end;       /* synset i's descendants are i + 1 … block_end[i] − 1 */
  const gint32       *distance;        /* [n, n], −1: no common hypernym */
  const double       *cos;             /* [n, n] */
  const double       *diff_cos;        /* [n, n], NAN for roots */
  guint               first, count;    /* the block shown */
  gint                selected;        /* its block outlined; −1 for none */
  const char         *title;
} CsWordNetHeatmapsFigure;

/* The cell under (px, py): row and column as synset indices, and which
 * panel (0 distance, 1 cos, 2 differences) when panel is not NULL. */
gboolean cs_figure_wordnet_heatmaps_cell_at (double                         x,
                                             double                         y,
                                             double                         width,
                                             double                         height,
                                             const CsFigureStyle           *style,
                                             const CsWordNetHeatmapsFigure *fig,
                                             double                         px,
                                             double                         py,
                                             guint                         *row,
                                             guint                         *col,
                                             int                           *panel);
void     cs_figure_draw_wordnet_heatmaps    (cairo_t                       *cr,
                                             double                         x,
                                             double                         y,
                                             double                         width,
                                             double                         height,
                                             const CsFigureStyle           *style,
                                             const CsWordNetHeatmapsFigure *fig);

/* Distributions as overlaid density histograms over [lo, hi], each with a
 * dashed line at its mean and a legend row (name, n, mean) above the plot. */
typedef struct
{
  guint                 n_series;
  const double * const *values;        /* NAN entries left out */
  const guint          *counts;
  const char * const   *names;         /* markup */
  double                lo, hi;
  guint                 bins;
  const char           *x_label, *title;
} CsHistogramsFigure;

void     cs_figure_draw_histograms  (cairo_t                  *cr,
                                     double                    x,
                                     double                    y,
                                     double                    width,
                                     double                    height,
                                     const CsFigureStyle      *style,
                                     const CsHistogramsFigure *fig);

/* Horizontal bars (positive one colour, negative another), labelled. */
typedef struct
{
  guint               n;
  const char * const *labels;          /* plain text */
  const double       *values;
  const char         *value_label, *title;
} CsBarsFigure;

void     cs_figure_draw_bars       (cairo_t              *cr,
                                    double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsBarsFigure   *fig);
/* The bar drawn at (px, py) by cs_figure_draw_bars in the same box, or −1. */
int      cs_figure_bars_index_at   (double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsBarsFigure   *fig,
                                    double                px,
                                    double                py);

/* Rows of wrapped text, each with a label: a table of continuations, say.
 * tone (optional) colours each label by sign (the bars' colours; 0 grey);
 * lead (optional) is shown muted before every text (the prompt). Text that
 * does not fit its row ends in an ellipsis. */
typedef struct
{
  guint               n;
  const char * const *labels;          /* plain text */
  const char * const *texts;           /* plain text */
  const double       *tone;
  const char         *lead;            /* plain text */
  const char         *title;           /* markup */
} CsTextsFigure;

void     cs_figure_draw_texts      (cairo_t              *cr,
                                    double                x,
                                    double                y,
                                    double                width,
                                    double                height,
                                    const CsFigureStyle  *style,
                                    const CsTextsFigure  *fig);

/* Background of the whole figure (nothing for the transparent theme). */
void     cs_figure_paint_background (cairo_t             *cr,
                                     double               width,
                                     double               height,
                                     const CsFigureStyle *style);

G_END_DECLS
