/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/kwasm (status.c). */
#ifndef KWASM_STATUS_H
#define KWASM_STATUS_H

int kwasm_status_init(void);
void kwasm_status_exit(void);
void kwasm_status_set_last_load(int ret, const char *name, const char *err);

#endif /* KWASM_STATUS_H */
