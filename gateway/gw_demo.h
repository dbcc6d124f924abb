/*
 * gw_demo: "twcgw --demo". Runs the real gateway bus code against an in-process simulator of three
 * TWC slaves over a socketpair, follows a scripted scenario of cars arriving and leaving in
 * simulated time, and prints a table of who gets how much current, then a verdict.
 */
#ifndef GW_DEMO_H
#define GW_DEMO_H

/**
 * gw_demo_run() - run the demo to its end.
 * @speed: simulated seconds per real second (> 0).
 * Return: the process exit code: 0 when the demo passed, 1 if the sum of limits in force ever
 * exceeded the available current or another check failed, 130 if interrupted.
 */
int gw_demo_run(double speed);

#endif
