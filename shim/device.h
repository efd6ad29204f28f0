/* SPDX-License-Identifier: GPL-2.0 */
/* /dev/kwasm (device.c). */
#ifndef KWASM_DEVICE_H
#define KWASM_DEVICE_H

int kwasm_device_init(void);
void kwasm_device_exit(void);

#endif /* KWASM_DEVICE_H */
