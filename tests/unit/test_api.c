/* SPDX-License-Identifier: Apache-2.0 */
/* (being written) */
int main (void);
int main (void) { return 77; }
