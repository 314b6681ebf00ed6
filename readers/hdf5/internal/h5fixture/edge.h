/* edge.h: see edge.c. */
#ifndef SUBSETD_H5FIXTURE_EDGE_H
#define SUBSETD_H5FIXTURE_EDGE_H
int sd_write_edge(const char *path);
#endif
